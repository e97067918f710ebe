//! Scoring: each solicitation's review settings, its reviewer pool, conflicts of interest
//! (declared or detected), reviews (an assignment becomes a review; a conflict declared late
//! releases it and the row stays as history), decision records (configuration, inputs, their
//! hash, the lottery seed and the result, so a decision can be recomputed exactly), and each
//! application's outcome once a decision is approved.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Solicitations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ScoringSettings {
    Table,
    SolicitationId,
    SettingsJson,
    Version,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReviewerPool {
    Table,
    Id,
    SolicitationId,
    UserId,
    Kind,
    ExpertiseJson,
    MinLoad,
    MaxLoad,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReviewConflicts {
    Table,
    Id,
    SolicitationId,
    ApplicationId,
    UserId,
    Source,
    Kind,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reviews {
    Table,
    Id,
    SolicitationId,
    ApplicationId,
    ReviewerId,
    Status,
    Pinned,
    Version,
    ScoresJson,
    OverallComment,
    AssignedBy,
    AssignedAt,
    UpdatedAt,
    SubmittedAt,
    ReopenedBy,
    ReopenedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ScoringDecisions {
    Table,
    Id,
    SolicitationId,
    Status,
    ConfigJson,
    InputsJson,
    InputsHash,
    Seed,
    ResultJson,
    ResultHash,
    CreatedBy,
    CreatedAt,
    ApprovedBy,
    ApprovedAt,
    ReleasedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationOutcomes {
    Table,
    ApplicationId,
    SolicitationId,
    DecisionId,
    Status,
    AmountCents,
    Reason,
    DecidedAt,
}

const REVIEWER_KINDS: [&str; 3] = ["staff", "peer", "community"];
const CONFLICT_SOURCES: [&str; 3] = ["declared", "detected", "officer"];
const CONFLICT_KINDS: [&str; 4] = ["organizational", "financial", "personal", "other"];
const REVIEW_STATUSES: [&str; 4] = ["assigned", "in_progress", "submitted", "released"];
const DECISION_STATUSES: [&str; 3] = ["draft", "approved", "released"];
const OUTCOMES: [&str; 2] = ["recommended", "not_selected"];

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
                .table(ScoringSettings::Table)
                .col(pk_uuid(ScoringSettings::SolicitationId))
                .col(text(ScoringSettings::SettingsJson))
                .col(integer(ScoringSettings::Version))
                .col(timestamp_with_time_zone(ScoringSettings::UpdatedAt))
                .col(string_len(ScoringSettings::UpdatedBy, 300))
                .foreign_key(&mut fk(
                    (ScoringSettings::Table, ScoringSettings::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewerPool::Table)
                .col(pk_uuid(ReviewerPool::Id))
                .col(uuid(ReviewerPool::SolicitationId))
                .col(uuid(ReviewerPool::UserId))
                .col(string_len(ReviewerPool::Kind, 16))
                .col(text(ReviewerPool::ExpertiseJson))
                .col(integer_null(ReviewerPool::MinLoad))
                .col(integer_null(ReviewerPool::MaxLoad))
                .col(string_len(ReviewerPool::AddedBy, 300))
                .col(timestamp_with_time_zone(ReviewerPool::AddedAt))
                .check(Expr::col(ReviewerPool::Kind).is_in(REVIEWER_KINDS))
                .foreign_key(&mut fk(
                    (ReviewerPool::Table, ReviewerPool::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .foreign_key(&mut fk(
                    (ReviewerPool::Table, ReviewerPool::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_reviewer_pool_solicitation_user",
            ReviewerPool::Table,
            &[
                ReviewerPool::SolicitationId.into_iden(),
                ReviewerPool::UserId.into_iden(),
            ],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewConflicts::Table)
                .col(pk_uuid(ReviewConflicts::Id))
                .col(uuid(ReviewConflicts::SolicitationId))
                .col(uuid(ReviewConflicts::ApplicationId))
                .col(uuid(ReviewConflicts::UserId))
                .col(string_len(ReviewConflicts::Source, 16))
                .col(string_len(ReviewConflicts::Kind, 16))
                .col(text(ReviewConflicts::Note))
                .col(string_len(ReviewConflicts::RecordedBy, 300))
                .col(timestamp_with_time_zone(ReviewConflicts::RecordedAt))
                .check(Expr::col(ReviewConflicts::Source).is_in(CONFLICT_SOURCES))
                .check(Expr::col(ReviewConflicts::Kind).is_in(CONFLICT_KINDS))
                .foreign_key(&mut fk(
                    (ReviewConflicts::Table, ReviewConflicts::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .foreign_key(&mut fk(
                    (ReviewConflicts::Table, ReviewConflicts::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_review_conflicts_application_user",
            ReviewConflicts::Table,
            &[
                ReviewConflicts::ApplicationId.into_iden(),
                ReviewConflicts::UserId.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            m,
            "ix_review_conflicts_solicitation",
            ReviewConflicts::Table,
            &[ReviewConflicts::SolicitationId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Reviews::Table)
                .col(pk_uuid(Reviews::Id))
                .col(uuid(Reviews::SolicitationId))
                .col(uuid(Reviews::ApplicationId))
                .col(uuid(Reviews::ReviewerId))
                .col(string_len(Reviews::Status, 16))
                .col(boolean(Reviews::Pinned))
                .col(integer(Reviews::Version))
                .col(text(Reviews::ScoresJson))
                .col(text(Reviews::OverallComment))
                .col(string_len(Reviews::AssignedBy, 300))
                .col(timestamp_with_time_zone(Reviews::AssignedAt))
                .col(timestamp_with_time_zone(Reviews::UpdatedAt))
                .col(timestamp_with_time_zone_null(Reviews::SubmittedAt))
                .col(string_len_null(Reviews::ReopenedBy, 300))
                .col(timestamp_with_time_zone_null(Reviews::ReopenedAt))
                .check(Expr::col(Reviews::Status).is_in(REVIEW_STATUSES))
                .check(Expr::col(Reviews::Version).gte(1))
                .foreign_key(&mut fk(
                    (Reviews::Table, Reviews::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .foreign_key(&mut fk(
                    (Reviews::Table, Reviews::ReviewerId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // A reviewer reviews an application at most once (a released assignment stays as history
        // and is reactivated, not duplicated, if the reviewer is assigned again).
        index(
            m,
            "ux_reviews_application_reviewer",
            Reviews::Table,
            &[Reviews::ApplicationId.into_iden(), Reviews::ReviewerId.into_iden()],
            true,
        )
        .await?;
        index(
            m,
            "ix_reviews_solicitation",
            Reviews::Table,
            &[Reviews::SolicitationId.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_reviews_reviewer",
            Reviews::Table,
            &[Reviews::ReviewerId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ScoringDecisions::Table)
                .col(pk_uuid(ScoringDecisions::Id))
                .col(uuid(ScoringDecisions::SolicitationId))
                .col(string_len(ScoringDecisions::Status, 16))
                .col(text(ScoringDecisions::ConfigJson))
                .col(text(ScoringDecisions::InputsJson))
                .col(string_len(ScoringDecisions::InputsHash, 64))
                .col(string_len(ScoringDecisions::Seed, 64))
                .col(text(ScoringDecisions::ResultJson))
                .col(string_len(ScoringDecisions::ResultHash, 64))
                .col(string_len(ScoringDecisions::CreatedBy, 300))
                .col(timestamp_with_time_zone(ScoringDecisions::CreatedAt))
                .col(string_len_null(ScoringDecisions::ApprovedBy, 300))
                .col(timestamp_with_time_zone_null(ScoringDecisions::ApprovedAt))
                .col(timestamp_with_time_zone_null(ScoringDecisions::ReleasedAt))
                .check(Expr::col(ScoringDecisions::Status).is_in(DECISION_STATUSES))
                .foreign_key(&mut fk(
                    (ScoringDecisions::Table, ScoringDecisions::SolicitationId),
                    (Solicitations::Table, Solicitations::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_scoring_decisions_solicitation",
            ScoringDecisions::Table,
            &[ScoringDecisions::SolicitationId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApplicationOutcomes::Table)
                .col(pk_uuid(ApplicationOutcomes::ApplicationId))
                .col(uuid(ApplicationOutcomes::SolicitationId))
                .col(uuid(ApplicationOutcomes::DecisionId))
                .col(string_len(ApplicationOutcomes::Status, 16))
                .col(big_integer(ApplicationOutcomes::AmountCents))
                .col(text(ApplicationOutcomes::Reason))
                .col(timestamp_with_time_zone(ApplicationOutcomes::DecidedAt))
                .check(Expr::col(ApplicationOutcomes::Status).is_in(OUTCOMES))
                .check(Expr::col(ApplicationOutcomes::AmountCents).gte(0))
                .foreign_key(&mut fk(
                    (ApplicationOutcomes::Table, ApplicationOutcomes::ApplicationId),
                    (Applications::Table, Applications::Id),
                ))
                .foreign_key(&mut fk(
                    (ApplicationOutcomes::Table, ApplicationOutcomes::DecisionId),
                    (ScoringDecisions::Table, ScoringDecisions::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_application_outcomes_solicitation",
            ApplicationOutcomes::Table,
            &[ApplicationOutcomes::SolicitationId.into_iden()],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApplicationOutcomes::Table.into_iden(),
            ScoringDecisions::Table.into_iden(),
            Reviews::Table.into_iden(),
            ReviewConflicts::Table.into_iden(),
            ReviewerPool::Table.into_iden(),
            ScoringSettings::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
