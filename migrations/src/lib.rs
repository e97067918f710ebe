//! Granary's schema: one ordered list of migrations, applied the same way on SQLite and
//! PostgreSQL. Money columns are integer cents (`BIGINT`), exact on both.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_identity;
mod m20261123_000003_applications;
mod m20261123_000004_scoring;
mod m20261123_000005_audit_appends;

/// The ordered list of Granary's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_identity::Migration),
            Box::new(m20261123_000003_applications::Migration),
            Box::new(m20261123_000004_scoring::Migration),
            Box::new(m20261123_000005_audit_appends::Migration),
        ]
    }
}
