//! Applications: one draft per organization and solicitation (versioned, so concurrent
//! edits conflict), the documents attached to it (replaced ones are kept, marked replaced),
//! every submission with its immutable snapshot and digest, and deadline extensions granted
//! to one organization.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Solicitations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Applications {
    Table,
    Id,
    SolicitationId,
    OrganizationId,
    Status,
    Version,
    ProjectTitle,
    TotalRequestCents,
    ContentJson,
    CurrentSubmissionId,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationVersions {
    Table,
    ApplicationId,
    Version,
    ContentJson,
    SavedBy,
    SavedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationDocuments {
    Table,
    Id,
    ApplicationId,
    Slot,
    DocumentId,
    Title,
    AddedBy,
    CreatedAt,
    ReplacedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationSubmissions {
    Table,
    Id,
    ApplicationId,
    SolicitationId,
    OrganizationId,
    TrackingNumber,
    SubmittedAt,
    SubmittedBy,
    SnapshotJson,
    Digest,
    ExtensionId,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationExtensions {
    Table,
    Id,
    SolicitationId,
    OrganizationId,
    Until,
    Reason,
    GrantedBy,
    GrantedAt,
}

const STATUSES: [&str; 3] = ["draft", "submitted", "withdrawn"];

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[DynIden],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c.clone());
    }
    if unique {
        idx.unique();
    }
    m.create_index(idx.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Applications::Table)
                .col(pk_uuid(Applications::Id))
                .col(uuid(Applications::SolicitationId))
                .col(uuid(Applications::OrganizationId))
                .col(string_len(Applications::Status, 16))
                .col(integer(Applications::Version))
                .col(string_len(Applications::ProjectTitle, 400))
                .col(big_integer_null(Applications::TotalRequestCents))
                .col(text(Applications::ContentJson))
                .col(uuid_null(Applications::CurrentSubmissionId))
                .col(timestamp_with_time_zone(Applications::CreatedAt))
                .col(timestamp_with_time_zone(Applications::UpdatedAt))
                .col(string_len(Applications::UpdatedBy, 300))
                .check(Expr::col(Applications::Status).is_in(STATUSES))
                .check(Expr::col(Applications::Version).gte(1))
                .foreign_key(&mut fk(
                    (Applications::Table, Applications::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .foreign_key(&mut fk(
                    (Applications::Table, Applications::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        // One application per organization and solicitation.
        index(
            m,
            "ux_applications_solicitation_org",
            Applications::Table,
            &[
                Applications::SolicitationId.into_iden(),
                Applications::OrganizationId.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            m,
            "ix_applications_org",
            Applications::Table,
            &[Applications::OrganizationId.into_iden()],
            false,
        )
        .await?;

        // Recent saved versions of each draft, so a save that started from an old version can
        // be merged three ways instead of overwriting.
        m.create_table(
            Table::create()
                .table(ApplicationVersions::Table)
                .col(uuid(ApplicationVersions::ApplicationId))
                .col(integer(ApplicationVersions::Version))
                .col(text(ApplicationVersions::ContentJson))
                .col(string_len(ApplicationVersions::SavedBy, 300))
                .col(timestamp_with_time_zone(ApplicationVersions::SavedAt))
                .primary_key(
                    Index::create()
                        .col(ApplicationVersions::ApplicationId)
                        .col(ApplicationVersions::Version),
                )
                .foreign_key(&mut fk(
                    (ApplicationVersions::Table, ApplicationVersions::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApplicationDocuments::Table)
                .col(pk_uuid(ApplicationDocuments::Id))
                .col(uuid(ApplicationDocuments::ApplicationId))
                .col(string_len(ApplicationDocuments::Slot, 120))
                .col(uuid(ApplicationDocuments::DocumentId))
                .col(string_len(ApplicationDocuments::Title, 300))
                .col(string_len(ApplicationDocuments::AddedBy, 300))
                .col(timestamp_with_time_zone(ApplicationDocuments::CreatedAt))
                .col(timestamp_with_time_zone_null(ApplicationDocuments::ReplacedAt))
                .foreign_key(&mut fk(
                    (ApplicationDocuments::Table, ApplicationDocuments::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .foreign_key(&mut fk(
                    (ApplicationDocuments::Table, ApplicationDocuments::DocumentId),
                    (Documents::Table, Documents::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_application_documents_application",
            ApplicationDocuments::Table,
            &[ApplicationDocuments::ApplicationId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApplicationExtensions::Table)
                .col(pk_uuid(ApplicationExtensions::Id))
                .col(uuid(ApplicationExtensions::SolicitationId))
                .col(uuid(ApplicationExtensions::OrganizationId))
                .col(timestamp_with_time_zone(ApplicationExtensions::Until))
                .col(text(ApplicationExtensions::Reason))
                .col(string_len(ApplicationExtensions::GrantedBy, 300))
                .col(timestamp_with_time_zone(ApplicationExtensions::GrantedAt))
                .foreign_key(&mut fk(
                    (ApplicationExtensions::Table, ApplicationExtensions::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .foreign_key(&mut fk(
                    (ApplicationExtensions::Table, ApplicationExtensions::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_application_extensions_solicitation_org",
            ApplicationExtensions::Table,
            &[
                ApplicationExtensions::SolicitationId.into_iden(),
                ApplicationExtensions::OrganizationId.into_iden(),
            ],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApplicationSubmissions::Table)
                .col(pk_uuid(ApplicationSubmissions::Id))
                .col(uuid(ApplicationSubmissions::ApplicationId))
                .col(uuid(ApplicationSubmissions::SolicitationId))
                .col(uuid(ApplicationSubmissions::OrganizationId))
                .col(string_len_uniq(ApplicationSubmissions::TrackingNumber, 32))
                .col(timestamp_with_time_zone(ApplicationSubmissions::SubmittedAt))
                .col(string_len(ApplicationSubmissions::SubmittedBy, 300))
                .col(text(ApplicationSubmissions::SnapshotJson))
                .col(string_len(ApplicationSubmissions::Digest, 64))
                .col(uuid_null(ApplicationSubmissions::ExtensionId))
                .col(timestamp_with_time_zone_null(ApplicationSubmissions::WithdrawnAt))
                .col(string_len_null(ApplicationSubmissions::WithdrawnBy, 300))
                .foreign_key(&mut fk(
                    (ApplicationSubmissions::Table, ApplicationSubmissions::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .foreign_key(&mut fk(
                    (ApplicationSubmissions::Table, ApplicationSubmissions::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .foreign_key(&mut fk(
                    (ApplicationSubmissions::Table, ApplicationSubmissions::ExtensionId),
                    (ApplicationExtensions::Table, ApplicationExtensions::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_application_submissions_application",
            ApplicationSubmissions::Table,
            &[ApplicationSubmissions::ApplicationId.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_application_submissions_solicitation",
            ApplicationSubmissions::Table,
            &[ApplicationSubmissions::SolicitationId.into_iden()],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApplicationSubmissions::Table.into_iden(),
            ApplicationExtensions::Table.into_iden(),
            ApplicationDocuments::Table.into_iden(),
            ApplicationVersions::Table.into_iden(),
            Applications::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
