//! End-to-end tests: the real router (pages, JSON API, CommonGrants) over a fresh database
//! (SQLite, or PostgreSQL when GRANARY_TEST_DATABASE_URL is set) and a real document store
//! (local files, or an S3 server started in the test).

mod access;
mod accounts;
mod api;
mod applications;
mod apply;
mod authoring;
mod common_grants;
mod logs;
mod manage;
mod orgs;
mod pages;
mod review_office;
mod reviewing;
mod storage;
mod support;
