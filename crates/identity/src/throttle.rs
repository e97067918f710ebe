//! Sign-in throttling. Every password sign-in is recorded; failures within the last 15 minutes
//! count against the address typed (5 allowed) and against the network address (20 allowed,
//! for someone trying many accounts). Once the limit is reached, further tries are refused
//! until enough failures have aged out of the window. Successes do not erase failures; old
//! failures simply stop counting. Refused tries are not recorded, so hammering a locked
//! account does not extend its lock.
//!
//! The check and the record are separate statements, so a burst of concurrent tries can
//! exceed a limit by the number in flight; the limits are about guessing speed, which that
//! does not change much.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::sign_in_attempt;
use crate::error::{IdentityError, Result};
use crate::stamp;

/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failed tries for one address within the window after which it is locked.
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
/// Failed tries from one network address within the window after which it is locked.
pub const MAX_FAILURES_PER_IP: u64 = 20;

/// When the failures matching `filter` next drop below `limit`, if they are at it now.
async fn locked_until<C: ConnectionTrait>(
    db: &C,
    filter: sea_orm::Condition,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let recent: Vec<DateTime<Utc>> = sign_in_attempt::Entity::find()
        .select_only()
        .column(sign_in_attempt::Column::At)
        .filter(filter)
        .filter(sign_in_attempt::Column::Succeeded.eq(false))
        .filter(sign_in_attempt::Column::At.gt(now - WINDOW))
        .filter(sign_in_attempt::Column::At.lte(now))
        .order_by_desc(sign_in_attempt::Column::At)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    // With `limit` failures in the window, the lock lasts until the oldest of the newest
    // `limit` leaves it.
    Ok(if recent.len() as u64 >= limit {
        recent.last().map(|oldest| *oldest + WINDOW)
    } else {
        None
    })
}

/// Refuses with `Throttled` when the address or the network address is locked.
pub(crate) async fn check<C: ConnectionTrait>(db: &C, email: &str, ip: &str, now: DateTime<Utc>) -> Result<()> {
    let by_account = locked_until(
        db,
        sea_orm::Condition::all().add(sign_in_attempt::Column::Email.eq(email)),
        MAX_FAILURES_PER_ACCOUNT,
        now,
    )
    .await?;
    let by_ip = locked_until(
        db,
        sea_orm::Condition::all().add(sign_in_attempt::Column::Ip.eq(ip)),
        MAX_FAILURES_PER_IP,
        now,
    )
    .await?;
    match by_account.max(by_ip) {
        Some(until) if until > now => {
            let ms = (until - now).num_milliseconds();
            let seconds = u64::try_from(ms.div_euclid(1000) + i64::from(ms % 1000 != 0))
                .unwrap_or(1)
                .max(1);
            Err(IdentityError::Throttled {
                retry_after_seconds: seconds,
            })
        }
        _ => Ok(()),
    }
}

/// Records one sign-in attempt.
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    email: &str,
    ip: &str,
    succeeded: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    sign_in_attempt::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        email: Set(email.to_string()),
        ip: Set(ip.to_string()),
        succeeded: Set(succeeded),
        at: Set(stamp(now)),
    }
    .insert(db)
    .await?;
    Ok(())
}
