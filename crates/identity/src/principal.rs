//! Who is asking, for the authorization policy: a user with their memberships (and, for an
//! API request, the token's scopes).

use granary_core::id::UserId;
use granary_core::policy::{Membership, Principal, Scope, UserPrincipal};
use sea_orm::ConnectionTrait;

use crate::error::{IdentityError, Result};
use crate::memberships::memberships_of;
use crate::users::{User, get_user};

/// Loads the principal for a signed-in user. `token_scopes` is `Some` when the request came
/// with an API token. A disabled account gets `InvalidCredentials`.
pub async fn load_principal<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    token_scopes: Option<Vec<Scope>>,
) -> Result<Principal> {
    let user = get_user(db, user_id).await?;
    principal_of_user(db, &user, token_scopes).await
}

/// The principal of a user already read (with the session or API token that names them, in
/// one query): only their memberships are read. A disabled account gets
/// `InvalidCredentials`, as with `load_principal`.
pub async fn principal_of_user<C: ConnectionTrait>(
    db: &C,
    user: &User,
    token_scopes: Option<Vec<Scope>>,
) -> Result<Principal> {
    if user.is_disabled() {
        return Err(IdentityError::InvalidCredentials);
    }
    let memberships = memberships_of(db, user.id)
        .await?
        .into_iter()
        .map(|m| Membership {
            org: m.organization_id,
            kind: m.kind,
            role: m.role,
        })
        .collect();
    Ok(Principal::User(UserPrincipal {
        id: user.id,
        name: user.display_name.clone(),
        site_admin: user.is_site_admin,
        email_verified: user.email_verified_at.is_some(),
        memberships,
        token_scopes,
    }))
}
