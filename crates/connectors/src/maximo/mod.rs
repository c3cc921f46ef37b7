//! IBM Maximo Manage (JSON API): assets, operating locations, work orders, PM masters,
//! inventory, purchase orders and companies read; work orders created and updated. The wire is
//! in [`client`], the translation to the unified model in [`mapping`] (reads) and [`write`]
//! (writes).
//!
//! Remote ids are the resource ids at the end of each record's `href`. Every entity but
//! inventory follows changes server-side with `oslc.where=changedate>=…` ordered by
//! `changedate` and then the unique id; inventory has no reliable `changedate` and is scanned
//! in full, in unique id order. Both page by keyset, so records changing during a listing never
//! make others skipped ([`client`] explains how with AND-only `oslc.where`).

pub mod client;
pub mod mapping;
pub mod write;

use async_trait::async_trait;
use millwright_core::Entity;
use serde_json::Value;

use crate::{
    catalog, http::HttpClient, ConnectionContext, Connector, ConnectorDescriptor, ConnectorError,
    Incremental, ListRequest, PassthroughRequest, PassthroughResponse, RecordPage, RemoteRecord,
};
use client::{object_structure, Client, ObjectStructure, WORK_ORDER};

/// The Maximo connector.
pub struct Maximo {
    descriptor: ConnectorDescriptor,
    http: HttpClient,
}

impl Maximo {
    /// A connector sending its requests through `http` (shared with other connectors).
    pub fn new(http: HttpClient) -> Maximo {
        Maximo {
            descriptor: catalog::maximo(),
            http,
        }
    }

    fn client<'a>(&'a self, ctx: &ConnectionContext) -> Result<Client<'a>, ConnectorError> {
        Client::new(&self.http, &ctx.credentials)
    }

    fn readable(&self, entity: Entity, operation: &str) -> Result<ObjectStructure, ConnectorError> {
        object_structure(entity).ok_or_else(|| ConnectorError::not_supported(entity, operation))
    }

    /// Work orders are the one entity written.
    fn writable(&self, entity: Entity, operation: &str) -> Result<ObjectStructure, ConnectorError> {
        if entity == Entity::WorkOrders {
            Ok(WORK_ORDER)
        } else {
            Err(ConnectorError::not_supported(entity, operation))
        }
    }
}

#[async_trait]
impl Connector for Maximo {
    fn descriptor(&self) -> &ConnectorDescriptor {
        &self.descriptor
    }

    async fn check_credentials(&self, ctx: &ConnectionContext) -> Result<(), ConnectorError> {
        match self.client(ctx)?.check().await {
            // Something answered, but not a Maximo JSON API: the URL is wrong, not the key.
            Err(ConnectorError::NotFound) => Err(ConnectorError::Invalid {
                field: "credentials.base_url".into(),
                message: "no Maximo API answers at this URL (404 on /maximo/api/os/mxapiasset)"
                    .into(),
            }),
            other => other,
        }
    }

    fn incremental(&self, entity: Entity) -> Incremental {
        match object_structure(entity) {
            Some(os) if os.changedate => Incremental::ServerFilter {
                field: "changedate",
            },
            _ => Incremental::FullScan,
        }
    }

    /// One page; the cursor is an opaque keyset position (see [`client`]'s module doc).
    async fn list(
        &self,
        ctx: &ConnectionContext,
        req: &ListRequest,
    ) -> Result<RecordPage, ConnectorError> {
        let os = self.readable(req.entity, "list")?;
        let page = self
            .client(ctx)?
            .list(os, req.cursor.as_deref(), req.modified_since, req.page_size)
            .await?;
        let records = page
            .members
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
        let os = self.readable(entity, "get")?;
        let raw = self.client(ctx)?.get(os, remote_id).await?;
        mapping::to_record(entity, raw)
    }

    /// `POST /mxapiwodetail` (201 + `Location`), then a `GET` for the record as Maximo stored
    /// it. The site comes from the asset or location given, or `custom_fields.siteid`.
    async fn create(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        input: Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let os = self.writable(entity, "create")?;
        let site_override = input
            .pointer("/custom_fields/siteid")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut input = input;
        if let Some(custom) = input
            .get_mut("custom_fields")
            .and_then(Value::as_object_mut)
        {
            custom.remove("siteid");
        }
        let write = write::work_order(&input, true)?;
        let siteid = site_override.or(write.siteid).ok_or_else(|| ConnectorError::Invalid {
            field: "asset_id".into(),
            message: "a Maximo work order belongs to a site: give asset_id, location_id or custom_fields.siteid".into(),
        })?;
        let mut body = write.body;
        body.insert("siteid".into(), Value::String(siteid));
        let client = self.client(ctx)?;
        let id = client.create(os, Value::Object(body)).await?;
        mapping::to_record(entity, client.get(os, &id).await?)
    }

    /// `POST /mxapiwodetail/{id}` with `x-method-override: PATCH` (status included: Maximo
    /// applies the change of status with the other attributes), then a `GET`.
    async fn update(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
        patch: Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let os = self.writable(entity, "update")?;
        let write = write::work_order(&patch, false)?;
        let client = self.client(ctx)?;
        if !write.body.is_empty() {
            client
                .patch(os, remote_id, Value::Object(write.body))
                .await?;
        }
        mapping::to_record(entity, client.get(os, remote_id).await?)
    }

    /// Any call under `{base_url}/maximo` with the stored API key.
    async fn passthrough(
        &self,
        ctx: &ConnectionContext,
        request: PassthroughRequest,
    ) -> Result<PassthroughResponse, ConnectorError> {
        self.client(ctx)?.passthrough(&request).await
    }

    /// The rows of [`mapping`]'s field tables; purchase order lines as `line_items.<field>`.
    fn field_mappings(&self, entity: Entity) -> Vec<(&'static str, &'static str)> {
        crate::mapping::field_mappings::<mapping::Wire>(entity, mapping::PURCHASE_ORDER_LINE)
    }
}
