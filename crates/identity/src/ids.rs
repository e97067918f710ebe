//! Typed ids of identity records (users and organizations have theirs in core).

granary_core::typed_id!(
    /// A signed-in browser session.
    SessionId
);
granary_core::typed_id!(
    /// A personal API token.
    ApiTokenId
);
granary_core::typed_id!(
    /// An invitation to join an organization.
    InvitationId
);
granary_core::typed_id!(
    /// An email in the outbox.
    EmailId
);
