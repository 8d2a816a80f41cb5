//! Control chains as the report shows them: the entities that control a
//! party, link by link, each with its source, and the country the party is
//! controlled from.

use crate::database::entities::{ControlChain, Entities, Entity};
use crate::database::{EntityKind as DbKind, LinkKind, SourceConfidence};
use crate::report::{Control, EntityKind, EntityRef, LinkConfidence};

/// The chain of control above entity `id`; None when the database does not know `id`.
pub fn control(entities: &Entities, id: &str) -> Option<Control> {
    let chain = entities.control_chain(id);
    let first = chain.path.first()?;
    Some(Control {
        chain: chain.describe(),
        path: chain.path.iter().map(|e| e.id.clone()).collect(),
        country: chain.country().map(str::to_string),
        registered: first.country.clone(),
        countries: chain.countries().into_iter().map(str::to_string).collect(),
        confidence: weakest_link(&chain),
        controller_kind: chain.controller().map(|e| kind(e.kind)).unwrap_or_default(),
    })
}

fn kind(k: DbKind) -> EntityKind {
    match k {
        DbKind::Company => EntityKind::Company,
        DbKind::OpenSource => EntityKind::OpenSource,
        DbKind::Unknown => EntityKind::Unknown,
    }
}

/// Strong when every entity has a source and every link on the path says
/// how the parent holds the child; medium when an imported link does not
/// say or a row rests on the vendor's own terms; weak when an entity has
/// no source or rests on a press report only.
fn weakest_link(chain: &ControlChain<'_>) -> LinkConfidence {
    let mut worst = LinkConfidence::Strong;
    for (i, e) in chain.path.iter().enumerate() {
        let has_parent_on_path = i + 1 < chain.path.len();
        let level = if e.source.trim().is_empty() || e.confidence == Some(SourceConfidence::Low) {
            LinkConfidence::Weak
        } else if e.confidence == Some(SourceConfidence::Medium)
            || (has_parent_on_path && e.link.as_ref().is_none_or(|l| l.kind == LinkKind::Unstated))
        {
            LinkConfidence::Medium
        } else {
            LinkConfidence::Strong
        };
        worst = worst.max(level);
    }
    worst
}

/// One entity as a report reference.
pub fn entity_ref(e: &Entity) -> EntityRef {
    EntityRef {
        id: e.id.clone(),
        name: e.name.clone(),
        country: e.country.clone(),
        source: e.source.clone(),
        run_from: e.run_from.clone(),
        link: e.parent.as_ref().and(e.link.as_ref()).map(|l| l.describe()),
        as_of: e.as_of.clone(),
        kind: kind(e.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::Database;

    #[test]
    fn a_subsidiary_is_controlled_from_its_parents_country() {
        let db = Database::embedded();
        let c = control(&db.entities, "tiktok").unwrap();
        assert_eq!(c.registered.as_deref(), Some("SG"));
        assert_eq!(c.country.as_deref(), Some("CN"), "{}", c.chain);
        assert!(c.chain.starts_with("TikTok Pte. Ltd."), "{}", c.chain);
        assert!(c.countries.contains(&"CN".to_string()));
        assert_eq!(c.confidence, LinkConfidence::Strong);
        assert!(control(&db.entities, "no-such-entity").is_none());
    }
}
