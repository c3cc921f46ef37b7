//! Tryton ERP (trytond 8.x, JSON-RPC): purchase orders (with lines) and vendors read and
//! created; inventory items, locations, assets and users read. The wire and the session are in
//! [`client`], Tryton's value encoding in [`value`], the translation to the unified model in
//! [`mapping`] (reads) and [`write`] (creates), the list cursor in [`cursor`].

pub mod client;
pub mod cursor;
pub mod mapping;
pub mod value;
pub mod write;

use async_trait::async_trait;
use millwright_core::Entity;
use serde_json::{json, Map, Value};

use crate::{
    catalog,
    http::{HttpClient, HttpConfig, RetryPolicy},
    ConnectionContext, Connector, ConnectorDescriptor, ConnectorError, Incremental, ListRequest,
    PassthroughRequest, PassthroughResponse, RecordPage, RemoteRecord,
};
use client::{Client, Sessions};
use cursor::Cursor;
use mapping::{Model, COMPANY_CURRENCY_KEY, LINES_KEY};

/// Largest page asked of Tryton. The server has no cap unless `[request] records_limit` is set;
/// this bounds one response's size.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// What incremental lists filter on: 8.x's `COALESCE(write_date, create_date)`, searchable
/// (reference §1.5). `write_date` alone is null until a record's first write.
const CHANGE_FIELD: &str = "last_modified_at";

/// The Tryton connector.
pub struct Tryton {
    descriptor: ConnectorDescriptor,
    http: HttpClient,
    /// The same settings without retries, for logins (see [`Client::login`]).
    login_http: HttpClient,
    sessions: Sessions,
}

impl Tryton {
    /// A connector sending its requests through `http` (shared with other connectors).
    pub fn new(http: HttpClient) -> Tryton {
        let login_http = HttpClient::new(HttpConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                ..http.config().retry.clone()
            },
            ..http.config().clone()
        })
        // `http` was built from the same settings, so this cannot fail at run time.
        .expect("the HTTP client (rustls) builds");
        Tryton {
            descriptor: catalog::tryton(),
            http,
            login_http,
            sessions: Sessions::default(),
        }
    }

    fn client<'a>(&'a self, ctx: &ConnectionContext) -> Result<Client<'a>, ConnectorError> {
        Client::new(
            &self.http,
            &self.login_http,
            &self.sessions,
            &ctx.credentials,
        )
    }

    fn model(&self, entity: Entity, operation: &str) -> Result<&'static Model, ConnectorError> {
        mapping::model(entity).ok_or_else(|| ConnectorError::not_supported(entity, operation))
    }

    /// Reads `domain` (plus the entity's own filter) and maps the records, with what each
    /// entity needs besides its own fields: the lines of purchases, the stock and currency of
    /// products.
    async fn fetch(
        &self,
        client: &Client<'_>,
        entity: Entity,
        domain: Vec<Value>,
        limit: u32,
    ) -> Result<Vec<RemoteRecord>, ConnectorError> {
        let model = self.model(entity, "list")?;
        let mut domain = domain;
        domain.extend(base_domain(entity));
        let mut context = Map::new();
        if entity == Entity::InventoryItems {
            // Stock is computed for the locations in the context: every warehouse, each with
            // its child locations.
            let warehouses = client
                .search_read(
                    "stock.location",
                    json!([["type", "=", "warehouse"]]),
                    0,
                    None,
                    json!([["id", "ASC"]]),
                    &["id"],
                    None,
                )
                .await?;
            let ids: Vec<Value> = warehouses
                .iter()
                .filter_map(|w| w.get("id").cloned())
                .collect();
            context.insert("locations".into(), Value::Array(ids));
        }
        let mut raws = client
            .search_read(
                model.name,
                Value::Array(domain),
                0,
                Some(limit),
                // Ids only grow: a stable order in which the cursor can resume after an id.
                json!([["id", "ASC"]]),
                model.fields,
                Some(&context),
            )
            .await?;
        match entity {
            Entity::PurchaseOrders => attach_lines(client, &mut raws).await?,
            Entity::InventoryItems => {
                let currency = client.session().await?.company_currency.clone();
                for raw in &mut raws {
                    raw.insert(COMPANY_CURRENCY_KEY.into(), json!(currency));
                }
            }
            _ => {}
        }
        raws.into_iter()
            .map(|raw| mapping::to_record(entity, raw))
            .collect()
    }

    /// Resolves a create's lookups, creates, presses its buttons, and reads the record back.
    async fn create_record(
        &self,
        client: &Client<'_>,
        entity: Entity,
        mut create: write::Create,
    ) -> Result<RemoteRecord, ConnectorError> {
        let model = self.model(entity, "create")?;
        for lookup in &create.lookups {
            let found = client
                .search_read(
                    lookup.model,
                    lookup.domain.clone(),
                    0,
                    Some(1),
                    Value::Null,
                    &["id"],
                    None,
                )
                .await?;
            let id = found.first().and_then(|r| r.get("id")).cloned();
            match (id, lookup.model) {
                (Some(id), _) => {
                    if let Some(slot) = create.values.pointer_mut(&lookup.target) {
                        *slot = id;
                    }
                }
                // A vendor without address: Tryton says what it needs when the purchase is quoted.
                (None, "party.address") => {}
                (None, _) => {
                    return Err(ConnectorError::Invalid {
                        field: lookup.field.clone(),
                        message: format!(
                            "Tryton has no {} matching {}",
                            lookup.model, lookup.domain
                        ),
                    })
                }
            }
        }
        if entity == Entity::PurchaseOrders {
            default_line_units(client, &mut create.values).await?;
        }
        let id = client
            .create(model.name, vec![create.values])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("{}.create answered no id", model.name),
            })?;
        for button in &create.buttons {
            client
                .button(model.name, button, &[id])
                .await
                .map_err(|e| match e {
                    // The record exists by now: say so, so that nobody creates it a second time.
                    ConnectorError::Rejected { message } => ConnectorError::Rejected {
                        message: format!(
                            "{} {id} was created, but `{button}` was refused: {message}",
                            model.name
                        ),
                    },
                    other => other,
                })?;
        }
        self.get_with(client, entity, id).await
    }

    async fn get_with(
        &self,
        client: &Client<'_>,
        entity: Entity,
        id: i64,
    ) -> Result<RemoteRecord, ConnectorError> {
        self.fetch(client, entity, vec![json!(["id", "=", id])], 1)
            .await?
            .into_iter()
            .next()
            .ok_or(ConnectorError::NotFound)
    }
}

/// What each entity lists besides `id`/change filters: archived vendors and users too (their
/// status says so), only stocked goods as inventory items.
fn base_domain(entity: Entity) -> Vec<Value> {
    match entity {
        Entity::Vendors | Entity::Users => vec![json!(["active", "in", [true, false]])],
        Entity::InventoryItems => vec![json!(["type", "=", "goods"])],
        _ => vec![],
    }
}

/// The change filter for `modified_since`. A purchase line has its own timestamps and editing
/// one does not touch the purchase (§1.5), so purchases also match on their lines'.
fn changed_since(entity: Entity, since: &millwright_core::time::Timestamp) -> Value {
    let at = value::encode_timestamp(since);
    match entity {
        Entity::PurchaseOrders => json!([
            "OR",
            [CHANGE_FIELD, ">=", at],
            [format!("lines.{CHANGE_FIELD}"), ">=", at]
        ]),
        _ => json!([CHANGE_FIELD, ">=", at]),
    }
}

/// Reads the lines of a page of purchases in one call and puts each purchase's lines, in
/// Tryton's line order, under [`LINES_KEY`].
async fn attach_lines(
    client: &Client<'_>,
    purchases: &mut [Map<String, Value>],
) -> Result<(), ConnectorError> {
    let ids: Vec<Value> = purchases
        .iter()
        .filter_map(|p| p.get("id").cloned())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let lines = client
        .search_read(
            mapping::PURCHASE_LINE.name,
            json!([["purchase", "in", ids]]),
            0,
            None,
            // The model's own order: `sequence`, then id, as Tryton shows the lines.
            Value::Null,
            mapping::PURCHASE_LINE.fields,
            None,
        )
        .await?;
    for purchase in purchases.iter_mut() {
        let id = purchase.get("id").cloned();
        let own: Vec<Value> = lines
            .iter()
            .filter(|l| l.get("purchase") == id.as_ref())
            .cloned()
            .map(Value::Object)
            .collect();
        purchase.insert(LINES_KEY.into(), Value::Array(own));
    }
    Ok(())
}

/// Lines given an item but no unit get the product's purchase unit (what Tryton's client fills
/// in on change of product; RPC creates run no on-change).
async fn default_line_units(client: &Client<'_>, values: &mut Value) -> Result<(), ConnectorError> {
    let Some(lines) = values
        .pointer_mut("/lines/0/1")
        .and_then(Value::as_array_mut)
    else {
        return Ok(());
    };
    for (i, line) in lines.iter_mut().enumerate() {
        if !line.get("unit").is_some_and(Value::is_null) {
            continue;
        }
        let Some(product) = line.get("product").and_then(Value::as_i64) else {
            continue;
        };
        let found = client
            .search_read(
                "product.product",
                json!([["id", "=", product]]),
                0,
                Some(1),
                Value::Null,
                &["purchase_uom", "default_uom"],
                None,
            )
            .await?;
        let Some(found) = found.first() else {
            return Err(ConnectorError::Invalid {
                field: format!("line_items[{i}].item_id"),
                message: format!("Tryton has no product {product}"),
            });
        };
        let unit = found
            .get("purchase_uom")
            .filter(|u| !u.is_null())
            .or_else(|| found.get("default_uom"))
            .cloned()
            .unwrap_or(Value::Null);
        line["unit"] = unit;
    }
    Ok(())
}

#[async_trait]
impl Connector for Tryton {
    fn descriptor(&self) -> &ConnectorDescriptor {
        &self.descriptor
    }

    /// A real login (not a cached session). Tryton's 429 after repeated failed logins is
    /// reported as rejected credentials here: at connect time the user must check the password,
    /// and trying again within [`client::LOGIN_LOCKOUT`] only extends the lockout.
    async fn check_credentials(&self, ctx: &ConnectionContext) -> Result<(), ConnectorError> {
        let client = self.client(ctx)?;
        match client.login().await {
            Ok(_) => Ok(()),
            Err(ConnectorError::RateLimited { .. }) => Err(ConnectorError::CredentialsRejected {
                reason: format!(
                    "Tryton refuses logins for this user after too many failed attempts; check \
                     the password and try again in {} minutes",
                    client::LOGIN_LOCKOUT.as_secs() / 60
                ),
            }),
            Err(e) => Err(e),
        }
    }

    /// Tryton filters on `last_modified_at` server-side. Inventory items are a full scan: stock
    /// changes are stock moves and leave the product's timestamps alone.
    fn incremental(&self, entity: Entity) -> Incremental {
        match entity {
            Entity::InventoryItems => Incremental::FullScan,
            _ if mapping::model(entity).is_some() => Incremental::ServerFilter {
                field: CHANGE_FIELD,
            },
            _ => Incremental::FullScan,
        }
    }

    async fn list(
        &self,
        ctx: &ConnectionContext,
        req: &ListRequest,
    ) -> Result<RecordPage, ConnectorError> {
        self.model(req.entity, "list")?;
        let cursor = match &req.cursor {
            Some(text) => Cursor::decode(text)?,
            None => Cursor::start(match self.incremental(req.entity) {
                Incremental::ServerFilter { .. } => req.modified_since,
                _ => None,
            }),
        };
        let mut domain = vec![json!(["id", ">", cursor.after_id])];
        if let Some(since) = &cursor.since {
            domain.push(changed_since(req.entity, since));
        }
        let limit = req.page_size.clamp(1, MAX_PAGE_SIZE);
        let client = self.client(ctx)?;
        let records = self.fetch(&client, req.entity, domain, limit).await?;
        let next_cursor = match records.last() {
            Some(last) if records.len() as u32 == limit => Some(
                Cursor {
                    after_id: last.remote_id.parse().unwrap_or(i64::MAX),
                    since: cursor.since,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(RecordPage {
            records,
            next_cursor,
        })
    }

    async fn get(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        remote_id: &str,
    ) -> Result<RemoteRecord, ConnectorError> {
        self.model(entity, "get")?;
        let Some(id) = remote_id.trim().parse::<i64>().ok().filter(|i| *i > 0) else {
            return Err(ConnectorError::NotFound);
        };
        self.get_with(&self.client(ctx)?, entity, id).await
    }

    /// Purchase orders (with their lines, one `create` call, so one Tryton transaction) and
    /// vendors. A purchase created `submitted` or `approved` is then quoted (and confirmed) with
    /// Tryton's buttons, which are further transactions.
    async fn create(
        &self,
        ctx: &ConnectionContext,
        entity: Entity,
        input: Value,
    ) -> Result<RemoteRecord, ConnectorError> {
        let create = match entity {
            Entity::PurchaseOrders => write::purchase_order(&input)?,
            Entity::Vendors => write::vendor(&input)?,
            _ => return Err(ConnectorError::not_supported(entity, "create")),
        };
        let client = self.client(ctx)?;
        self.create_record(&client, entity, create).await
    }

    /// A JSON-RPC call (or any request) to `/` or `/<database>/…` with the stored session.
    async fn passthrough(
        &self,
        ctx: &ConnectionContext,
        request: PassthroughRequest,
    ) -> Result<PassthroughResponse, ConnectorError> {
        self.client(ctx)?.passthrough(&request).await
    }

    /// The rows of the model's table ([`mapping::field_sources`]); purchase lines as
    /// `line_items.<field>`.
    fn field_mappings(&self, entity: Entity) -> Vec<(&'static str, &'static str)> {
        crate::mapping::field_mappings::<mapping::Wire>(entity, mapping::PURCHASE_LINE.table)
    }
}
