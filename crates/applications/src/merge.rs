//! Three-way merging of application drafts. When a save started from version `b` finds the
//! draft at a later version (a co-worker saved meanwhile), each part of the application is
//! compared across the three: the one the editor started from (base), the one saved since
//! (saved) and the one being saved (yours). A part only one side changed takes that side's
//! value; a part both changed differently is a conflict, where yours is kept and the saved
//! one shown beside it. Parts are the top-level fields, with each answer and each priority
//! claim a part of its own.

use serde_json::{Map, Value};

use crate::model::ApplicationContent;

/// The outcome of a three-way merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged content: every part one side changed, and yours where both did.
    pub content: ApplicationContent,
    /// The parts both sides changed differently (`project_title`, `answers.need`, ...).
    pub conflicts: Vec<String>,
}

fn pick(
    part: String,
    base: Option<&Value>,
    saved: Option<&Value>,
    yours: Option<&Value>,
    conflicts: &mut Vec<String>,
) -> Option<Value> {
    if yours == base {
        saved.cloned()
    } else if saved == base || saved == yours {
        yours.cloned()
    } else {
        conflicts.push(part);
        yours.cloned()
    }
}

fn object(c: &ApplicationContent) -> Map<String, Value> {
    match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Merges `yours` (edited from `base`) with `saved` (the draft as saved since).
pub fn merge(base: &ApplicationContent, saved: &ApplicationContent, yours: &ApplicationContent) -> Merged {
    let (b, s, y) = (object(base), object(saved), object(yours));
    let mut conflicts = Vec::new();
    let mut out = Map::new();
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(s.keys()).chain(y.keys()).collect();
    for k in keys {
        let (bv, sv, yv) = (b.get(k), s.get(k), y.get(k));
        let merged = if matches!(k.as_str(), "answers" | "priorities") {
            let empty = Map::new();
            let as_map = |v: Option<&Value>| match v {
                Some(Value::Object(m)) => m.clone(),
                _ => empty.clone(),
            };
            let (bm, sm, ym) = (as_map(bv), as_map(sv), as_map(yv));
            let sub: std::collections::BTreeSet<&String> = bm.keys().chain(sm.keys()).chain(ym.keys()).collect();
            let mut m = Map::new();
            for sk in sub {
                if let Some(v) = pick(format!("{k}.{sk}"), bm.get(sk), sm.get(sk), ym.get(sk), &mut conflicts) {
                    m.insert(sk.clone(), v);
                }
            }
            Some(Value::Object(m))
        } else {
            pick(k.clone(), bv, sv, yv, &mut conflicts)
        };
        if let Some(v) = merged {
            out.insert(k.clone(), v);
        }
    }
    // Every part came from one of three valid contents, so this cannot fail; if it somehow
    // did, yours is kept whole and everything counts as a conflict.
    match serde_json::from_value(Value::Object(out)) {
        Ok(content) => Merged { content, conflicts },
        Err(_) => Merged {
            content: yours.clone(),
            conflicts: crate::service::changed_parts(saved, yours),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(title: &str, abstract_: &str, answers: &[(&str, &str)]) -> ApplicationContent {
        let mut c = ApplicationContent {
            project_title: title.into(),
            project_abstract: abstract_.into(),
            ..Default::default()
        };
        for (k, v) in answers {
            c.answers.insert((*k).into(), (*v).into());
        }
        c
    }

    #[test]
    fn a_part_only_one_side_changed_takes_that_side() {
        let base = content("T", "A", &[("need", "n"), ("plan", "p")]);
        // A co-worker rewrote the title and the plan; you changed the abstract and the need.
        let saved = content("T2", "A", &[("need", "n"), ("plan", "p2")]);
        let yours = content("T", "A-yours", &[("need", "n-yours"), ("plan", "p")]);
        let m = merge(&base, &saved, &yours);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(
            m.content,
            content("T2", "A-yours", &[("need", "n-yours"), ("plan", "p2")])
        );
    }

    #[test]
    fn both_changing_a_part_differently_is_a_conflict_that_keeps_yours() {
        let base = content("T", "A", &[("need", "n")]);
        let saved = content("T", "A-theirs", &[("need", "n-theirs")]);
        let yours = content("T", "A-yours", &[("need", "n-theirs")]);
        let m = merge(&base, &saved, &yours);
        assert_eq!(m.conflicts, vec!["abstract".to_string()]);
        assert_eq!(m.content.project_abstract, "A-yours");
        assert_eq!(
            m.content.answers["need"], "n-theirs",
            "the same change on both sides is no conflict"
        );
    }

    #[test]
    fn answers_added_or_removed_on_one_side_survive() {
        let base = content("T", "A", &[("need", "n")]);
        let saved = content("T", "A", &[("need", "n"), ("plan", "theirs")]);
        let yours = content("T", "A", &[]);
        let m = merge(&base, &saved, &yours);
        assert!(m.conflicts.is_empty());
        assert_eq!(m.content.answers.get("plan").map(String::as_str), Some("theirs"));
        assert_eq!(
            m.content.answers.get("need"),
            None,
            "you removed it, they did not touch it"
        );
    }
}
