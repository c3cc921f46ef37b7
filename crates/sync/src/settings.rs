//! A connection's sync settings as stored (`{frequency_minutes, history_days, entities,
//! entity_frequency_minutes?}`), read with defaults.

use millwright_core::Entity;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct SyncSettings {
    #[serde(default = "default_frequency")]
    pub frequency_minutes: u32,
    #[serde(default = "default_history")]
    pub history_days: u32,
    #[serde(default)]
    pub entities: Vec<Entity>,
    /// Per-entity overrides of `frequency_minutes`.
    #[serde(default)]
    pub entity_frequency_minutes: std::collections::BTreeMap<Entity, u32>,
}

fn default_frequency() -> u32 {
    15
}

fn default_history() -> u32 {
    90
}

impl SyncSettings {
    pub fn from_json(v: &serde_json::Value) -> SyncSettings {
        serde_json::from_value(v.clone()).unwrap_or(SyncSettings {
            frequency_minutes: default_frequency(),
            history_days: default_history(),
            entities: Vec::new(),
            entity_frequency_minutes: Default::default(),
        })
    }

    pub fn frequency(&self, entity: Entity) -> chrono::Duration {
        let minutes = self
            .entity_frequency_minutes
            .get(&entity)
            .copied()
            .unwrap_or(self.frequency_minutes);
        chrono::Duration::minutes(minutes.clamp(1, 1440) as i64)
    }
}

/// Transactional entities are limited to the history window on the first sync; reference data
/// (assets, locations, vendors, items, users, schedules) is fetched in full.
pub fn uses_history_window(entity: Entity) -> bool {
    matches!(entity, Entity::WorkOrders | Entity::PurchaseOrders)
}
