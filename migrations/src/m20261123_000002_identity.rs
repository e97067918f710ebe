//! Identity: users, their memberships in organizations, invitations, sessions, API tokens,
//! one-time tokens (email verification, password reset), sign-in attempts for throttling,
//! and the outbox of emails waiting to be sent. Tokens are stored only as SHA-256 hashes.

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
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    EmailVerifiedAt,
    IsSiteAdmin,
    CreatedAt,
    UpdatedAt,
    DisabledAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    Id,
    UserId,
    OrganizationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    Id,
    OrganizationId,
    Email,
    Role,
    TokenHash,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    TokenPrefix,
    Scopes,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OneTimeTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SignInAttempts {
    Table,
    Id,
    Email,
    Ip,
    Succeeded,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum EmailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    BodyText,
    CreatedAt,
    NextAttemptAt,
    SentAt,
    Attempts,
    LastError,
}

const ROLES: [&str; 3] = ["owner", "staff", "reviewer"];

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
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
                .table(Users::Table)
                .col(pk_uuid(Users::Id))
                .col(string_len_uniq(Users::Email, 254))
                .col(string_len(Users::DisplayName, 200))
                .col(string_len(Users::PasswordHash, 255))
                .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                .col(boolean(Users::IsSiteAdmin).default(false))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .col(timestamp_with_time_zone_null(Users::DisabledAt))
                // Addresses are kept lower-cased so the unique index is case-insensitive.
                .check(Expr::col(Users::Email).eq(Func::lower(Expr::col(Users::Email))))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(pk_uuid(Memberships::Id))
                .col(uuid(Memberships::UserId))
                .col(uuid(Memberships::OrganizationId))
                .col(string_len(Memberships::Role, 16))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .check(Expr::col(Memberships::Role).is_in(ROLES))
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::UserId),
                    (Users::Table, Users::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_memberships_user_org",
            Memberships::Table,
            &[Memberships::UserId.into_iden(), Memberships::OrganizationId.into_iden()],
            true,
        )
        .await?;
        index(
            m,
            "ix_memberships_org",
            Memberships::Table,
            &[Memberships::OrganizationId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(pk_uuid(Invitations::Id))
                .col(uuid(Invitations::OrganizationId))
                .col(string_len(Invitations::Email, 254))
                .col(string_len(Invitations::Role, 16))
                .col(string_len_uniq(Invitations::TokenHash, 64))
                .col(uuid(Invitations::InvitedBy))
                .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                .col(timestamp_with_time_zone(Invitations::CreatedAt))
                .check(Expr::col(Invitations::Role).is_in(ROLES))
                .foreign_key(&mut fk(
                    (Invitations::Table, Invitations::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    (Invitations::Table, Invitations::InvitedBy),
                    (Users::Table, Users::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_invitations_org",
            Invitations::Table,
            &[Invitations::OrganizationId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(pk_uuid(Sessions::Id))
                .col(string_len_uniq(Sessions::TokenHash, 64))
                .col(uuid(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(string_len_null(Sessions::Ip, 45))
                .col(string_len_null(Sessions::UserAgent, 500))
                .foreign_key(&mut fk(
                    (Sessions::Table, Sessions::UserId),
                    (Users::Table, Users::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_sessions_user",
            Sessions::Table,
            &[Sessions::UserId.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_sessions_expires_at",
            Sessions::Table,
            &[Sessions::ExpiresAt.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(pk_uuid(ApiTokens::Id))
                .col(uuid(ApiTokens::UserId))
                .col(string_len(ApiTokens::Name, 100))
                .col(string_len_uniq(ApiTokens::TokenHash, 64))
                .col(string_len(ApiTokens::TokenPrefix, 8))
                .col(text(ApiTokens::Scopes))
                .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .foreign_key(&mut fk(
                    (ApiTokens::Table, ApiTokens::UserId),
                    (Users::Table, Users::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_api_tokens_user",
            ApiTokens::Table,
            &[ApiTokens::UserId.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OneTimeTokens::Table)
                .col(pk_uuid(OneTimeTokens::Id))
                .col(uuid(OneTimeTokens::UserId))
                .col(string_len(OneTimeTokens::Purpose, 32))
                .col(string_len_uniq(OneTimeTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(OneTimeTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(OneTimeTokens::UsedAt))
                .col(timestamp_with_time_zone(OneTimeTokens::CreatedAt))
                .check(Expr::col(OneTimeTokens::Purpose).is_in(["verify_email", "reset_password"]))
                .foreign_key(&mut fk(
                    (OneTimeTokens::Table, OneTimeTokens::UserId),
                    (Users::Table, Users::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_one_time_tokens_user_purpose",
            OneTimeTokens::Table,
            &[OneTimeTokens::UserId.into_iden(), OneTimeTokens::Purpose.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SignInAttempts::Table)
                .col(pk_uuid(SignInAttempts::Id))
                .col(string_len(SignInAttempts::Email, 254))
                .col(string_len(SignInAttempts::Ip, 45))
                .col(boolean(SignInAttempts::Succeeded))
                .col(timestamp_with_time_zone(SignInAttempts::At))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_sign_in_attempts_email_at",
            SignInAttempts::Table,
            &[SignInAttempts::Email.into_iden(), SignInAttempts::At.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_sign_in_attempts_ip_at",
            SignInAttempts::Table,
            &[SignInAttempts::Ip.into_iden(), SignInAttempts::At.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailOutbox::Table)
                .col(pk_uuid(EmailOutbox::Id))
                .col(string_len(EmailOutbox::ToAddress, 254))
                .col(string_len(EmailOutbox::Subject, 300))
                .col(text(EmailOutbox::BodyText))
                .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                .col(integer(EmailOutbox::Attempts).default(0))
                .col(text_null(EmailOutbox::LastError))
                .check(Expr::col(EmailOutbox::Attempts).gte(0))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_email_outbox_pending",
            EmailOutbox::Table,
            &[EmailOutbox::SentAt.into_iden(), EmailOutbox::NextAttemptAt.into_iden()],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EmailOutbox::Table.into_iden(),
            SignInAttempts::Table.into_iden(),
            OneTimeTokens::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Invitations::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
