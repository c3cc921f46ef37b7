//! SAP S/4HANA (OData v2, Plant Maintenance and Purchasing): equipment, functional locations,
//! maintenance orders, maintenance plans, purchase orders with items and suppliers read;
//! maintenance orders and purchase orders (with items, one deep insert) created. The wire is
//! in [`client`], the translation to the unified model in [`mapping`] (reads) and [`write`]
//! (creates).

pub mod client;
pub mod mapping;
pub mod write;

use async_trait::async_trait;
use millwright_core::Entity;

use crate::{
    catalog, http::HttpClient, ConnectionContext, Connector, ConnectorDescriptor, ConnectorError,
    Incremental, ListRequest, PassthroughRequest, PassthroughResponse, RecordPage, RemoteRecord,
};
use client::{entity_set, Client, CsrfSession, EntitySet};

/// The `sap_s4hana` connector.
pub struct SapS4Hana {
    descriptor: ConnectorDescriptor,
    http: HttpClient,
    /// CSRF tokens per logon, reused across writes.
    csrf: CsrfSession,
}

impl SapS4Hana {
    /// A connector sending its requests through `http` (shared with other connectors).
    pub fn new(http: HttpClient) -> SapS4Hana {
        SapS4Hana {
            descriptor: catalog::sap_s4hana(),
            http,
            csrf: CsrfSession::default(),
        }
    }

    fn client<'a>(&'a self, ctx: &ConnectionContext) -> Result<Client<'a>, ConnectorError> {
        Client::new(&self.http, &ctx.credentials)
    }

    fn readable(&self, entity: Entity, operation: &str) -> Result<EntitySet, ConnectorError> {
        entity_set(entity).ok_or_else(|| ConnectorError::not_supported(entity, operation))
    }
}

#[async_trait]
impl Connector for SapS4Hana {
    fn descriptor(&self) -> &ConnectorDescriptor {
        &self.descriptor
    }

    async fn check_credentials(&self, ctx: &ConnectionContext) -> Result<(), ConnectorError> {
        match self.client(ctx)?.check().await {
            // Something answered, but not an S/4HANA OData service.
            Err(ConnectorError::NotFound) => Err(ConnectorError::Invalid {
                field: "credentials.base_url".into(),
                message: "no SAP OData service answers at this URL (404 on API_EQUIPMENT)".into(),
            }),
            other => other,
        }
    }

    /// `$filter=LastChangeDateTime ge datetimeoffset'…'` server-side, paged by keyset on
    /// `(LastChangeDateTime, key)` so records changed mid-sync cannot make others be skipped
    /// (see [`client`]); suppliers have no change timestamp and are read in full.
    fn incremental(&self, entity: Entity) -> Incremental {
        match entity_set(entity).and_then(|s| s.change_field) {
            Some(field) => Incremental::ServerFilter { field },
            None => Incremental::FullScan,
        }
    }

    async fn list(
        &self,
        ctx: &ConnectionContext,
        req: &ListRequest,
    ) -> Result<RecordPage, ConnectorError> {
        let set = self.readable(req.entity, "list")?;
        let page = self
            .client(ctx)?
            .list(
                &set,
                req.cursor.as_deref(),
                req.modified_since,
                req.page_size,
            )
            .await?;
        let records = page
            .items
            .into_iter()
            .map(|raw| mapping::to_record(req.entity, raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RecordPage {
            records,
            next_cursor: page.next,
        })
    }

    async fn get(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<RemoteRecord, ConnectorError> {
        let set = self.readable(entity, "get")?;
        let raw = self.client(ctx)?.get(&set, remote_id).await?;
        mapping::to_record(entity, raw)
    }

    /// One `POST` (after a CSRF token fetch, cached per logon), then a read of the created
    /// record with its navigations so the answer maps like a listed one.
    async fn create(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        input: serde_json::Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let body = match entity {
            Entity::WorkOrders => write::maintenance_order(&input)?,
            Entity::PurchaseOrders => write::purchase_order(&input)?,
            other => return Err(ConnectorError::not_supported(other, "create")),
        };
        let set = self.readable(entity, "create")?;
        let client = self.client(ctx)?;
        let created = client.create(&self.csrf, &set, body).await?;
        let key = created
            .get(set.key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 201,
                message: format!("SAP created a {} but did not name its {}", set.set, set.key),
            })?;
        match client.get(&set, &key).await {
            Ok(raw) => mapping::to_record(entity, raw),
            // Created for sure; if the read-back fails, answer what the create returned.
            Err(_) => mapping::to_record(entity, created),
        }
    }

    /// Any OData call under `{base_url}/sap/opu/odata/sap` with the stored logon (and a CSRF
    /// token for modifying requests).
    async fn passthrough(
        &self,
        ctx: &ConnectionContext,
        request: PassthroughRequest,
    ) -> Result<PassthroughResponse, ConnectorError> {
        self.client(ctx)?.passthrough(&request).await
    }

    /// The rows of [`mapping`]'s field tables; purchase order items as `line_items.<field>`.
    fn field_mappings(&self, entity: Entity) -> Vec<(&'static str, &'static str)> {
        crate::mapping::field_mappings::<mapping::Wire>(entity, mapping::PURCHASE_ORDER_LINE)
    }
}
