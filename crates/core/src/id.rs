//! Typed ids: a UUID v7 (time-ordered, so new rows sort after old ones and index well) wrapped
//! in a type per kind of thing, so a solicitation id can never be passed where an
//! organization id is expected.

/// Declares a typed id wrapping a UUID v7.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::id::IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| $crate::id::IdParseError { kind: stringify!($name) })
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(u: uuid::Uuid) -> Self {
                Self(u)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

/// A string that is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: expected a UUID such as 0190b7c4-6a1e-7c3e-9d6f-2b1a4c5d6e7f")]
pub struct IdParseError {
    pub kind: &'static str,
}

typed_id!(
    /// A program office, intermediary or community organization.
    OrganizationId
);
typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A solicitation (notice of funding opportunity).
    SolicitationId
);
typed_id!(
    /// A document held in the document store.
    DocumentId
);
typed_id!(
    /// One entry of the audit log.
    AuditEntryId
);
typed_id!(
    /// An organization's application to one solicitation.
    ApplicationId
);
typed_id!(
    /// One submission of an application (every submission is kept).
    SubmissionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_v7_and_parse_back() {
        let a = SolicitationId::new();
        let b = SolicitationId::new();
        assert_eq!(a.0.get_version_num(), 7);
        assert!(a < b, "v7 ids sort by creation time");
        let parsed: SolicitationId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
    }

    #[test]
    fn bad_id_names_the_kind() {
        let err = "nope".parse::<OrganizationId>().unwrap_err();
        assert!(err.to_string().contains("OrganizationId"));
    }
}
