//! The foundation: organizations, the audit log, stored documents, and solicitations with
//! their amendment versions and attachments.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
    Kind,
    Name,
    LegalName,
    Ein,
    Uei,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    CountyFips,
    AnnualBudgetCents,
    YearFounded,
    PopulationsServedJson,
    LivedExperienceLed,
    FiscalSponsorId,
    Website,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Seq,
    OccurredAt,
    Actor,
    ActorName,
    Action,
    SubjectType,
    SubjectId,
    BeforeJson,
    AfterJson,
    PrevHash,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
    StorageKey,
    Filename,
    ContentType,
    SizeBytes,
    Sha256,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Solicitations {
    Table,
    Id,
    Number,
    Title,
    IssuingOfficeId,
    Status,
    Version,
    Summary,
    Description,
    ProgramAreasJson,
    FocusTagsJson,
    ApplicantTypesJson,
    EligibilityJson,
    TotalFundingCents,
    AwardFloorCents,
    AwardCeilingCents,
    ExpectedAwards,
    PeriodStart,
    PeriodEnd,
    FundingNotes,
    TimeZone,
    OpensAt,
    ClosesAt,
    PostedAt,
    OtherDatesJson,
    RubricJson,
    PrioritiesJson,
    RequiredDocumentsJson,
    QuestionsJson,
    AssistanceListing,
    ContactJson,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SolicitationVersions {
    Table,
    Id,
    SolicitationId,
    Version,
    ChangeSummary,
    SnapshotJson,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SolicitationAttachments {
    Table,
    Id,
    SolicitationId,
    DocumentId,
    Title,
    CreatedAt,
    RemovedAt,
}

fn cents_check(col: impl IntoIden + Clone) -> SimpleExpr {
    Expr::col(col.clone()).is_null().or(Expr::col(col).gte(0))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(pk_uuid(Organizations::Id))
                .col(string_len(Organizations::Kind, 32))
                .col(string_len(Organizations::Name, 300))
                .col(string_len_null(Organizations::LegalName, 300))
                .col(string_len_null(Organizations::Ein, 10))
                .col(string_len_null(Organizations::Uei, 12))
                .col(string_len_null(Organizations::AddressLine1, 300))
                .col(string_len_null(Organizations::AddressLine2, 300))
                .col(string_len_null(Organizations::City, 120))
                .col(string_len_null(Organizations::State, 2))
                .col(string_len_null(Organizations::PostalCode, 10))
                .col(string_len_null(Organizations::CountyFips, 5))
                .col(big_integer_null(Organizations::AnnualBudgetCents))
                .col(integer_null(Organizations::YearFounded))
                .col(text(Organizations::PopulationsServedJson).default("[]"))
                .col(boolean(Organizations::LivedExperienceLed).default(false))
                .col(uuid_null(Organizations::FiscalSponsorId))
                .col(string_len_null(Organizations::Website, 500))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                .check(cents_check(Organizations::AnnualBudgetCents))
                .foreign_key(
                    ForeignKey::create()
                        .from(Organizations::Table, Organizations::FiscalSponsorId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_organizations_name_kind")
                .table(Organizations::Table)
                .col(Organizations::Kind)
                .col(Organizations::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                .col(string_len(AuditLog::Actor, 200))
                .col(string_len(AuditLog::ActorName, 300))
                .col(string_len(AuditLog::Action, 100))
                .col(string_len(AuditLog::SubjectType, 60))
                .col(string_len(AuditLog::SubjectId, 100))
                .col(text_null(AuditLog::BeforeJson))
                .col(text_null(AuditLog::AfterJson))
                .col(string_len_uniq(AuditLog::PrevHash, 64))
                .col(string_len_uniq(AuditLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_audit_log_subject", AuditLog::SubjectId),
            ("ix_audit_log_actor", AuditLog::Actor),
            ("ix_audit_log_occurred_at", AuditLog::OccurredAt),
        ] {
            m.create_index(Index::create().name(name).table(AuditLog::Table).col(col).to_owned())
                .await?;
        }

        m.create_table(
            Table::create()
                .table(Documents::Table)
                .col(pk_uuid(Documents::Id))
                .col(string_len_uniq(Documents::StorageKey, 512))
                .col(string_len(Documents::Filename, 255))
                .col(string_len(Documents::ContentType, 255))
                .col(big_integer(Documents::SizeBytes))
                .col(string_len(Documents::Sha256, 64))
                .col(string_len(Documents::UploadedBy, 200))
                .col(timestamp_with_time_zone(Documents::CreatedAt))
                .check(Expr::col(Documents::SizeBytes).gte(0))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Solicitations::Table)
                .col(pk_uuid(Solicitations::Id))
                .col(string_len_uniq(Solicitations::Number, 60))
                .col(string_len(Solicitations::Title, 300))
                .col(uuid(Solicitations::IssuingOfficeId))
                .col(string_len(Solicitations::Status, 16))
                .col(integer(Solicitations::Version).default(0))
                .col(text(Solicitations::Summary))
                .col(text(Solicitations::Description))
                .col(text(Solicitations::ProgramAreasJson))
                .col(text(Solicitations::FocusTagsJson))
                .col(text(Solicitations::ApplicantTypesJson))
                .col(text(Solicitations::EligibilityJson))
                .col(big_integer(Solicitations::TotalFundingCents))
                .col(big_integer_null(Solicitations::AwardFloorCents))
                .col(big_integer(Solicitations::AwardCeilingCents))
                .col(integer_null(Solicitations::ExpectedAwards))
                .col(date_null(Solicitations::PeriodStart))
                .col(date_null(Solicitations::PeriodEnd))
                .col(text(Solicitations::FundingNotes))
                .col(string_len(Solicitations::TimeZone, 64))
                .col(timestamp_with_time_zone_null(Solicitations::OpensAt))
                .col(timestamp_with_time_zone_null(Solicitations::ClosesAt))
                .col(timestamp_with_time_zone_null(Solicitations::PostedAt))
                .col(text(Solicitations::OtherDatesJson))
                .col(text(Solicitations::RubricJson))
                .col(text(Solicitations::PrioritiesJson))
                .col(text(Solicitations::RequiredDocumentsJson))
                .col(text(Solicitations::QuestionsJson))
                .col(string_len_null(Solicitations::AssistanceListing, 20))
                .col(text(Solicitations::ContactJson))
                .col(text(Solicitations::SearchText))
                .col(timestamp_with_time_zone(Solicitations::CreatedAt))
                .col(timestamp_with_time_zone(Solicitations::UpdatedAt))
                .check(Expr::col(Solicitations::TotalFundingCents).gte(0))
                .check(cents_check(Solicitations::AwardFloorCents))
                .check(Expr::col(Solicitations::AwardCeilingCents).gte(0))
                .check(Expr::col(Solicitations::Status).is_in(["draft", "forecasted", "open", "closed", "archived"]))
                .foreign_key(
                    ForeignKey::create()
                        .from(Solicitations::Table, Solicitations::IssuingOfficeId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_solicitations_status", Solicitations::Status),
            ("ix_solicitations_closes_at", Solicitations::ClosesAt),
            ("ix_solicitations_office", Solicitations::IssuingOfficeId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Solicitations::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(SolicitationVersions::Table)
                .col(pk_uuid(SolicitationVersions::Id))
                .col(uuid(SolicitationVersions::SolicitationId))
                .col(integer(SolicitationVersions::Version))
                .col(text(SolicitationVersions::ChangeSummary))
                .col(text(SolicitationVersions::SnapshotJson))
                .col(string_len(SolicitationVersions::Actor, 200))
                .col(timestamp_with_time_zone(SolicitationVersions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SolicitationVersions::Table, SolicitationVersions::SolicitationId)
                        .to(Solicitations::Table, Solicitations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_solicitation_versions")
                .table(SolicitationVersions::Table)
                .col(SolicitationVersions::SolicitationId)
                .col(SolicitationVersions::Version)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SolicitationAttachments::Table)
                .col(pk_uuid(SolicitationAttachments::Id))
                .col(uuid(SolicitationAttachments::SolicitationId))
                .col(uuid(SolicitationAttachments::DocumentId))
                .col(string_len(SolicitationAttachments::Title, 255))
                .col(timestamp_with_time_zone(SolicitationAttachments::CreatedAt))
                .col(timestamp_with_time_zone_null(SolicitationAttachments::RemovedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SolicitationAttachments::Table, SolicitationAttachments::SolicitationId)
                        .to(Solicitations::Table, Solicitations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SolicitationAttachments::Table, SolicitationAttachments::DocumentId)
                        .to(Documents::Table, Documents::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_solicitation_attachments_solicitation")
                .table(SolicitationAttachments::Table)
                .col(SolicitationAttachments::SolicitationId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SolicitationAttachments::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SolicitationVersions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Solicitations::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Documents::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Organizations::Table).to_owned()).await
    }
}
