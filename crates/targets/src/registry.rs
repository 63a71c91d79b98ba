//! The configured targets, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Target;

/// Every configured target, looked up by the name stored on accounts.
#[derive(Clone, Default)]
pub struct Targets {
    by_name: BTreeMap<String, Arc<dyn Target>>,
}

impl Targets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a target; a second target of the same name replaces the first.
    pub fn insert(&mut self, target: Arc<dyn Target>) {
        self.by_name.insert(target.name().to_owned(), target);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Target>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}
