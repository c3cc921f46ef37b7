//! MaintainX (cloud CMMS): work orders read and written; assets, locations, parts, purchase
//! orders, vendors and users read. The wire is in [`client`], the translation to the unified model
//! in [`mapping`] (reads) and [`write`] (writes).

pub mod client;
pub mod mapping;
pub mod write;

use async_trait::async_trait;
use millwright_core::Entity;

use crate::{
    catalog, http::HttpClient, ConnectionContext, Connector, ConnectorDescriptor, ConnectorError,
    Incremental, ListRequest, PassthroughRequest, PassthroughResponse, RecordPage, RemoteRecord,
};
use client::{resource, Client, Resource};

/// The MaintainX connector.
pub struct MaintainX {
    descriptor: ConnectorDescriptor,
    http: HttpClient,
}

impl MaintainX {
    /// A connector sending its requests through `http` (shared with other connectors).
    pub fn new(http: HttpClient) -> MaintainX {
        MaintainX {
            descriptor: catalog::maintainx(),
            http,
        }
    }

    fn client<'a>(&'a self, ctx: &ConnectionContext) -> Result<Client<'a>, ConnectorError> {
        Client::new(&self.http, &ctx.credentials)
    }

    /// The resource behind a readable entity.
    fn readable(&self, entity: Entity, operation: &str) -> Result<Resource, ConnectorError> {
        resource(entity).ok_or_else(|| ConnectorError::not_supported(entity, operation))
    }

    /// Work orders are the one entity MaintainX lets Millwright write.
    fn writable(&self, entity: Entity, operation: &str) -> Result<Resource, ConnectorError> {
        match self.descriptor.operations(entity) {
            Some(ops)
                if (operation == "create" && ops.create)
                    || (operation == "update" && ops.update)
                    || (operation == "delete" && ops.delete) =>
            {
                self.readable(entity, operation)
            }
            _ => Err(ConnectorError::not_supported(entity, operation)),
        }
    }
}

#[async_trait]
impl Connector for MaintainX {
    fn descriptor(&self) -> &ConnectorDescriptor {
        &self.descriptor
    }

    async fn check_credentials(&self, ctx: &ConnectionContext) -> Result<(), ConnectorError> {
        match self.client(ctx)?.check().await {
            // Something answered, but not a MaintainX API: the URL is wrong, not the key.
            Err(ConnectorError::NotFound) => Err(ConnectorError::Invalid {
                field: "credentials.base_url".into(),
                message: "no MaintainX API answers at this URL (404 on /v1/users)".into(),
            }),
            other => other,
        }
    }

    /// No server-side filter on `updatedAt` is confirmed, so every entity is a full cursor scan
    /// compared on `updatedAt` client-side.
    fn incremental(&self, entity: Entity) -> Incremental {
        match resource(entity) {
            Some(_) => Incremental::ClientCompare { field: "updatedAt" },
            None => Incremental::FullScan,
        }
    }

    async fn list(
        &self,
        ctx: &ConnectionContext,
        req: &ListRequest,
    ) -> Result<RecordPage, ConnectorError> {
        let resource = self.readable(req.entity, "list")?;
        let page = self
            .client(ctx)?
            .list(resource, req.cursor.as_deref(), req.page_size)
            .await?;
        let mut records = Vec::with_capacity(page.items.len());
        for raw in page.items {
            let record = mapping::to_record(req.entity, raw)?;
            // Only records provably older than the cut-off are dropped; one without `updatedAt`
            // might have changed.
            let older = matches!((req.modified_since, record.remote_updated_at), (Some(since), Some(updated)) if updated < since);
            if !older {
                records.push(record);
            }
        }
        Ok(RecordPage {
            records,
            next_cursor: page.next_cursor,
        })
    }

    async fn get(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<RemoteRecord, ConnectorError> {
        let resource = self.readable(entity, "get")?;
        let raw = self.client(ctx)?.get(resource, remote_id).await?;
        mapping::to_record(entity, raw)
    }

    /// `POST /workorders`, then the status (MaintainX creates work orders open), then a `GET`
    /// for the record as MaintainX stored it. Should the status be refused, the error names the
    /// work order already created.
    async fn create(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        input: serde_json::Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let resource = self.writable(entity, "create")?;
        let write = write::work_order(&input, true)?;
        let client = self.client(ctx)?;
        let id = client
            .create(resource, serde_json::Value::Object(write.body))
            .await?;
        if let Some(status) = write.status.filter(|s| *s != "OPEN") {
            // The work order exists by now: say so, so that nobody creates it a second time.
            let created = |detail: String| {
                format!("work order {id} was created, but its status was not set: {detail}")
            };
            client
                .set_work_order_status(&id, status)
                .await
                .map_err(|e| match e {
                    ConnectorError::Rejected { message } => ConnectorError::Rejected {
                        message: created(message),
                    },
                    ConnectorError::Unreachable { reason } => ConnectorError::Unreachable {
                        reason: created(reason),
                    },
                    other => other,
                })?;
        }
        mapping::to_record(entity, client.get(resource, &id).await?)
    }

    /// `PATCH /workorders/{id}` with the changed fields, `PATCH /workorders/{id}/status` for a
    /// status, then a `GET` for the record as MaintainX then has it. The two calls are not one
    /// transaction: if MaintainX refuses the status after taking the fields, the fields stay
    /// changed (the next sync shows them) and the error is returned.
    async fn update(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
        patch: serde_json::Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let resource = self.writable(entity, "update")?;
        let write = write::work_order(&patch, false)?;
        let client = self.client(ctx)?;
        if !write.body.is_empty() {
            client
                .patch(resource, remote_id, serde_json::Value::Object(write.body))
                .await?;
        }
        if let Some(status) = write.status {
            client.set_work_order_status(remote_id, status).await?;
        }
        mapping::to_record(entity, client.get(resource, remote_id).await?)
    }

    /// `DELETE /workorders/{id}` (204).
    async fn delete(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<(), ConnectorError> {
        let resource = self.writable(entity, "delete")?;
        self.client(ctx)?.delete(resource, remote_id).await
    }

    /// Any call under `{base_url}/v1` with the stored API key (and organization).
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
