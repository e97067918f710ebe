//! The solicitation lifecycle: draft -> forecasted -> open -> closed -> archived. A draft may
//! also open without a forecast, and a forecast that never opens may be archived. Each legal
//! step is one function; anything else is a typed error.

use serde::{Deserialize, Serialize};

use crate::SolicitationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Forecasted,
    Open,
    Closed,
    Archived,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Forecasted,
        Status::Open,
        Status::Closed,
        Status::Archived,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Forecasted => "forecasted",
            Status::Open => "open",
            Status::Closed => "closed",
            Status::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim().to_ascii_lowercase())
    }

    pub fn label(&self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Forecasted => "Forecasted",
            Status::Open => "Open",
            Status::Closed => "Closed",
            Status::Archived => "Archived",
        }
    }

    /// Whether the public can see a solicitation in this state.
    pub fn is_public(&self) -> bool {
        !matches!(self, Status::Draft)
    }

    /// Whether the solicitation has been posted (so changes are amendments).
    pub fn is_posted(&self) -> bool {
        matches!(self, Status::Forecasted | Status::Open)
    }

    fn step(self, to: Status, allowed: &[Status]) -> Result<Status, SolicitationError> {
        if allowed.contains(&self) {
            Ok(to)
        } else {
            Err(SolicitationError::IllegalTransition { from: self, to })
        }
    }

    /// Post a forecast of an opportunity that will open later.
    pub fn forecast(self) -> Result<Status, SolicitationError> {
        self.step(Status::Forecasted, &[Status::Draft])
    }

    /// Open for applications.
    pub fn open(self) -> Result<Status, SolicitationError> {
        self.step(Status::Open, &[Status::Draft, Status::Forecasted])
    }

    /// Stop taking applications.
    pub fn close(self) -> Result<Status, SolicitationError> {
        self.step(Status::Closed, &[Status::Open])
    }

    /// Take out of public lists once its work is done (or a forecast is withdrawn).
    pub fn archive(self) -> Result<Status, SolicitationError> {
        self.step(Status::Archived, &[Status::Closed, Status::Forecasted])
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requested transition, as named in URLs and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Forecast,
    Open,
    Close,
    Archive,
}

impl Transition {
    pub fn apply(self, from: Status) -> Result<Status, SolicitationError> {
        match self {
            Transition::Forecast => from.forecast(),
            Transition::Open => from.open(),
            Transition::Close => from.close(),
            Transition::Archive => from.archive(),
        }
    }

    pub fn audit_action(self) -> &'static str {
        match self {
            Transition::Forecast => "solicitation.forecasted",
            Transition::Open => "solicitation.opened",
            Transition::Close => "solicitation.closed",
            Transition::Archive => "solicitation.archived",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_steps() {
        assert_eq!(Status::Draft.forecast().unwrap(), Status::Forecasted);
        assert_eq!(Status::Forecasted.open().unwrap(), Status::Open);
        assert_eq!(Status::Draft.open().unwrap(), Status::Open);
        assert_eq!(Status::Open.close().unwrap(), Status::Closed);
        assert_eq!(Status::Closed.archive().unwrap(), Status::Archived);
        assert_eq!(Status::Forecasted.archive().unwrap(), Status::Archived);
    }

    #[test]
    fn illegal_steps_are_errors() {
        for (from, t) in [
            (Status::Open, Transition::Forecast),
            (Status::Closed, Transition::Open),
            (Status::Draft, Transition::Close),
            (Status::Open, Transition::Archive),
            (Status::Archived, Transition::Open),
            (Status::Draft, Transition::Archive),
        ] {
            assert!(
                matches!(t.apply(from), Err(SolicitationError::IllegalTransition { .. })),
                "{from} -> {t:?} must be refused"
            );
        }
    }
}
