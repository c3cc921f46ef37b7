//! The set of connectors this build knows: every catalog entry, and the implementation of
//! those that can connect.

use std::{collections::BTreeMap, sync::Arc};

use crate::{
    catalog,
    http::{HttpClient, HttpConfig},
    maintainx::MaintainX,
    maximo::Maximo,
    Connector, ConnectorDescriptor,
};

#[derive(Clone)]
pub struct Registry {
    descriptors: Vec<ConnectorDescriptor>,
    implementations: BTreeMap<&'static str, Arc<dyn Connector>>,
}

impl Registry {
    /// Every connector of this build, with a shared HTTP client.
    pub fn standard() -> Registry {
        Registry::with_http(
            // Building a rustls client only fails if the TLS backend cannot initialise, which is
            // a defect of the build, not a condition to handle at run time.
            HttpClient::new(HttpConfig::default()).expect("the HTTP client (rustls) builds"),
        )
    }

    /// Every connector of this build, sending through `http` (e.g. with test timeouts).
    pub fn with_http(http: HttpClient) -> Registry {
        let mut r = Registry {
            descriptors: vec![
                catalog::maintainx(),
                catalog::maximo(),
                catalog::sap_s4hana(),
                catalog::tryton(),
            ],
            implementations: BTreeMap::new(),
        };
        r.register(Arc::new(crate::sap::SapS4Hana::new(http.clone())));
        r.register(Arc::new(crate::tryton::Tryton::new(http.clone())));
        r.register(Arc::new(MaintainX::new(http.clone())));
        r.register(Arc::new(Maximo::new(http)));
        r
    }

    /// Adds or replaces an implementation (and its catalog entry).
    pub fn register(&mut self, connector: Arc<dyn Connector>) {
        let d = connector.descriptor().clone();
        self.descriptors.retain(|x| x.id != d.id);
        self.implementations.insert(d.id, connector);
        self.descriptors.push(d);
        self.descriptors.sort_by_key(|d| d.id);
    }

    /// Catalog entries, sorted by id.
    pub fn descriptors(&self) -> impl Iterator<Item = &ConnectorDescriptor> {
        self.descriptors.iter()
    }

    pub fn descriptor(&self, id: &str) -> Option<&ConnectorDescriptor> {
        self.descriptors.iter().find(|d| d.id == id)
    }

    /// The implementation, if this build can connect to the system.
    pub fn connector(&self, id: &str) -> Option<Arc<dyn Connector>> {
        self.implementations.get(id).cloned()
    }
}
