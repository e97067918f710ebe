//! The `solicitations` table: one row per solicitation holding its current content. Lists
//! and nested structures are JSON text (portable across SQLite and PostgreSQL); amounts are
//! integer cents.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "solicitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub issuing_office_id: Uuid,
    pub status: String,
    pub version: i32,
    pub summary: String,
    pub description: String,
    pub program_areas_json: String,
    pub focus_tags_json: String,
    pub applicant_types_json: String,
    pub eligibility_json: String,
    pub total_funding_cents: i64,
    pub award_floor_cents: Option<i64>,
    pub award_ceiling_cents: i64,
    pub expected_awards: Option<i32>,
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    pub funding_notes: String,
    pub time_zone: String,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub posted_at: Option<DateTimeUtc>,
    pub other_dates_json: String,
    pub rubric_json: String,
    pub priorities_json: String,
    pub required_documents_json: String,
    pub questions_json: String,
    pub assistance_listing: Option<String>,
    pub contact_json: String,
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::office::Entity",
        from = "Column::IssuingOfficeId",
        to = "super::office::Column::Id"
    )]
    Office,
}

impl Related<super::office::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Office.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
