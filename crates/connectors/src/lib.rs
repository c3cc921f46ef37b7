//! Connectors: each source system behind one [`Connector`] trait. A connector speaks its
//! vendor's wire format (`client.rs`) and maps records to the unified model (`mapping.rs`: its
//! tables, read by the shared [`mapping`] framework); it never touches the store.

mod catalog;
mod credentials;
mod error;
pub mod http;
pub mod maintainx;
pub mod mapping;
pub mod maximo;
pub mod passthrough;
mod record;
mod registry;
pub mod sap;
pub mod tryton;

pub use catalog::{AuthField, Category, ConnectorDescriptor, EntityOperations};
pub use credentials::Credentials;
pub use error::ConnectorError;
pub use passthrough::{PassthroughRequest, PassthroughResponse};
pub use record::{Incremental, ListRequest, RecordPage, RemoteRecord};
pub use registry::Registry;

use async_trait::async_trait;
use millwright_core::{credits::Deployment, Entity};

/// What a call needs to reach one connection's source system.
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    pub deployment: Deployment,
    pub credentials: Credentials,
}

/// One source system. Reads produce [`RemoteRecord`]s in the unified model whose relation fields
/// hold the source's ids; writes take unified-model JSON (relation fields again holding remote
/// ids) and answer the record as the source then has it.
///
/// Every operation but [`Connector::descriptor`] and [`Connector::check_credentials`] has a
/// default that answers [`ConnectorError::NotSupported`], so a connector implements what its
/// catalog entry offers and nothing more.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The catalog entry: id, tier, auth fields, per-entity operations.
    fn descriptor(&self) -> &ConnectorDescriptor;

    /// Checks the credentials against the source system with a light authenticated call.
    /// Rejected credentials are [`ConnectorError::CredentialsRejected`] with the source's reason.
    async fn check_credentials(&self, ctx: &ConnectionContext) -> Result<(), ConnectorError>;

    /// How this connector follows changes of `entity`, i.e. what `modified_since` in
    /// [`Connector::list`] does.
    fn incremental(&self, entity: Entity) -> Incremental {
        let _ = entity;
        Incremental::FullScan
    }

    /// One page of records of `req.entity`.
    async fn list(
        &self,
        ctx: &ConnectionContext,
        req: &ListRequest,
    ) -> Result<RecordPage, ConnectorError> {
        let _ = ctx;
        Err(ConnectorError::not_supported(req.entity, "list"))
    }

    /// One record by its remote id; [`ConnectorError::NotFound`] if the source has none.
    async fn get(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<RemoteRecord, ConnectorError> {
        let _ = (ctx, remote_id);
        Err(ConnectorError::not_supported(entity, "get"))
    }

    /// Creates a record from unified-model JSON and answers it as stored by the source. A field
    /// the connector cannot accept is [`ConnectorError::Invalid`] naming it, before anything is
    /// sent.
    async fn create(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        input: serde_json::Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let _ = (ctx, input);
        Err(ConnectorError::not_supported(entity, "create"))
    }

    /// Changes the fields named in `patch` (unified-model JSON; `null` clears) and answers the
    /// record as the source then has it.
    async fn update(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
        patch: serde_json::Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let _ = (ctx, remote_id, patch);
        Err(ConnectorError::not_supported(entity, "update"))
    }

    /// Deletes the record in the source. [`ConnectorError::NotFound`] if the source has none.
    async fn delete(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<(), ConnectorError> {
        let _ = (ctx, remote_id);
        Err(ConnectorError::not_supported(entity, "delete"))
    }

    /// Sends a caller's raw request to the source system with the connection's credentials and
    /// answers the source's response, whatever its status. Implementations resolve the path
    /// with [`passthrough::target`] under their vendor prefix and send with
    /// [`passthrough::send`], so the credentials never leave the source's API.
    async fn passthrough(
        &self,
        ctx: &ConnectionContext,
        request: PassthroughRequest,
    ) -> Result<PassthroughResponse, ConnectorError> {
        let _ = (ctx, request);
        Err(ConnectorError::NotSupported {
            entity: "the source API".into(),
            operation: "passthrough".into(),
        })
    }

    /// Where each unified field of `entity` comes from: (unified field, source field), read
    /// from the connector's own mapping tables. Purchase order lines are listed as
    /// `line_items.<field>`. Empty for an entity the connector does not have.
    fn field_mappings(&self, entity: Entity) -> Vec<(&'static str, &'static str)> {
        let _ = entity;
        Vec::new()
    }
}

/// `line_items.<field>`: how [`Connector::field_mappings`] names a purchase order line field.
/// The line fields are the closed list of spec §5, so the names can be static.
pub fn line_item_field(field: &str) -> &'static str {
    const LINE_FIELDS: &[(&str, &str)] = &[
        ("line_number", "line_items.line_number"),
        ("item_id", "line_items.item_id"),
        ("product_code", "line_items.product_code"),
        ("description", "line_items.description"),
        ("quantity", "line_items.quantity"),
        ("unit_of_measure", "line_items.unit_of_measure"),
        ("unit_price", "line_items.unit_price"),
        ("total", "line_items.total"),
        ("delivery_date", "line_items.delivery_date"),
        ("received_quantity", "line_items.received_quantity"),
    ];
    LINE_FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("line_items", |(_, path)| path)
}

impl ConnectorError {
    /// [`ConnectorError::NotSupported`] for `operation` (`list`, `create`, …) on `entity`.
    pub fn not_supported(entity: Entity, operation: &str) -> ConnectorError {
        ConnectorError::NotSupported {
            entity: entity.as_str().to_string(),
            operation: operation.to_string(),
        }
    }
}
