//! Who is acting. Every state change records its actor in the audit log.

use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// The one who causes a change: a signed-in user, the command line, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A person signed in to Granary.
    User { id: UserId, name: String },
    /// An operator at the `granary` command line (migrate, seed, ...).
    Cli { command: String },
    /// Granary itself (scheduled transitions and the like).
    System,
}

impl Actor {
    pub fn cli(command: &str) -> Self {
        Actor::Cli {
            command: command.to_string(),
        }
    }

    /// The stable text stored in the audit log's actor column.
    pub fn audit_label(&self) -> String {
        match self {
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::Cli { command } => format!("cli:{command}"),
            Actor::System => "system".to_string(),
        }
    }

    /// How the actor is shown to people.
    pub fn display_name(&self) -> String {
        match self {
            Actor::User { name, .. } => name.clone(),
            Actor::Cli { command } => format!("granary {command}"),
            Actor::System => "Granary".to_string(),
        }
    }
}
