//! The simulated application fleet: services, their SDK, endpoints, hosts and versions.
//!
//! Built once from the seed, so the same seed always describes the same fleet.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::ids::hex_id;

/// Which SDK a service uses; it decides the row shapes (see `docs/LOADGEN.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sdk {
    /// Node `@opentrace-sdk/node` 0.2.0: float durations, flat `db_*` fields, separate error rows.
    Node,
    /// Ruby gem `opentrace` 0.17: integer durations, `controller`, `body.sql`, errors in `body.logs`.
    Ruby,
}

/// One SQL statement an endpoint runs.
#[derive(Debug, Clone)]
pub struct SqlTemplate {
    /// ActiveRecord-style name, e.g. `"Order Load"`.
    pub name: String,
    /// The table.
    pub table: String,
    /// Where the call sits in the app, e.g. `"app/models/order.rb:41"`.
    pub caller_location: String,
    /// 8-hex fingerprint, fixed per statement.
    pub fingerprint: String,
}

/// One route of a service.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// HTTP method.
    pub method: &'static str,
    /// Route template, e.g. `/api/orders/:id`; `:id` is replaced by a number per request.
    pub route: String,
    /// Ruby controller class (`"OrdersController"`).
    pub controller: String,
    /// Node handler (`"OrdersController#show"`).
    pub handler: String,
    /// Relative popularity.
    pub weight: u32,
    /// Median duration in milliseconds.
    pub base_ms: f64,
    /// Statements this endpoint usually runs.
    pub sql: Vec<SqlTemplate>,
    /// Source file of the handler, used in backtraces.
    pub source_file: String,
}

/// One service of the fleet.
#[derive(Debug, Clone)]
pub struct Service {
    /// Service name (`"checkout-api"`).
    pub name: String,
    /// Its SDK.
    pub sdk: Sdk,
    /// Its routes.
    pub endpoints: Vec<Endpoint>,
    /// `(hostname, pid)` of its processes.
    pub hosts: Vec<(String, u32)>,
    /// The version (git SHA) it starts with.
    pub initial_version: String,
    /// Node only: whether the framework fills `handler` (the bundled Express middleware never does).
    pub sets_handler: bool,
    /// Node only: whether `timeline: true` is configured.
    pub timeline: bool,
}

/// Service names used first; more services get `svc-N`.
const SERVICE_NAMES: &[&str] = &[
    "checkout-api",
    "billing-api",
    "catalog-api",
    "users-api",
    "search-api",
    "inventory-api",
    "notifications-worker",
    "gateway",
];

/// Resources endpoints are made from (model name, table).
const RESOURCES: &[(&str, &str)] = &[
    ("Order", "orders"),
    ("Invoice", "invoices"),
    ("Product", "products"),
    ("User", "users"),
    ("Cart", "carts"),
    ("Payment", "payments"),
    ("Session", "sessions"),
    ("Shipment", "shipments"),
    ("Coupon", "coupons"),
    ("Review", "reviews"),
    ("Address", "addresses"),
    ("Subscription", "subscriptions"),
    ("Notification", "notifications"),
    ("Warehouse", "warehouses"),
    ("Refund", "refunds"),
    ("Category", "categories"),
];

/// (method, path suffix, action, popularity, median ms).
const ACTIONS: &[(&str, &str, &str, u32, f64)] = &[
    ("GET", "", "index", 30, 35.0),
    ("GET", "/:id", "show", 40, 18.0),
    ("POST", "", "create", 12, 60.0),
    ("PATCH", "/:id", "update", 8, 45.0),
    ("DELETE", "/:id", "destroy", 3, 25.0),
];

/// Builds the fleet: `services` services sharing `endpoints` routes round-robin.
/// `checkout-api` (service 0) always has `POST /api/checkout`, the route incidents target.
pub fn build_fleet(rng: &mut ChaCha8Rng, services: usize, endpoints: usize) -> Vec<Service> {
    let services = services.max(1);
    let mut fleet: Vec<Service> = (0..services)
        .map(|i| {
            let name = SERVICE_NAMES
                .get(i)
                .map_or_else(|| format!("svc-{i}"), |s| s.to_string());
            let sdk = if i % 2 == 0 { Sdk::Node } else { Sdk::Ruby };
            let hosts = (0..rng.random_range(2..=4))
                .map(|h| {
                    (
                        format!("{}-{}", name.split('-').next().unwrap_or("web"), h + 1),
                        rng.random_range(1000..60000),
                    )
                })
                .collect();
            Service {
                initial_version: hex_id(rng, 7),
                sdk,
                endpoints: Vec::new(),
                hosts,
                sets_handler: rng.random_bool(0.5),
                timeline: rng.random_bool(0.3),
                name,
            }
        })
        .collect();
    if let Some(first) = fleet.first_mut() {
        first.endpoints.push(endpoint(
            rng,
            "POST",
            "/api/checkout".into(),
            "Checkout",
            "checkouts",
            "create",
            20,
            120.0,
        ));
    }
    let total = fleet.iter().map(|s| s.endpoints.len()).sum::<usize>();
    for (k, n) in (total..endpoints.max(1)).enumerate() {
        let (model, table) = RESOURCES[k / ACTIONS.len() % RESOURCES.len()];
        let (method, suffix, action, weight, base) = ACTIONS[k % ACTIONS.len()];
        let round = k / (ACTIONS.len() * RESOURCES.len());
        let route = if round == 0 {
            format!("/api/{table}{suffix}")
        } else {
            format!("/api/v{}/{table}{suffix}", round + 1)
        };
        let svc = n % services;
        let e = endpoint(rng, method, route, model, table, action, weight, base);
        fleet[svc].endpoints.push(e);
    }
    for s in fleet.iter_mut().filter(|s| s.endpoints.is_empty()) {
        s.endpoints.push(endpoint(
            rng,
            "GET",
            "/api/status".into(),
            "Status",
            "statuses",
            "show",
            1,
            2.0,
        ));
    }
    fleet
}

#[allow(clippy::too_many_arguments)]
fn endpoint(
    rng: &mut ChaCha8Rng,
    method: &'static str,
    route: String,
    model: &str,
    table: &str,
    action: &str,
    weight: u32,
    base_ms: f64,
) -> Endpoint {
    let verb = match action {
        "create" => "Create",
        "update" => "Update",
        "destroy" => "Destroy",
        _ => "Load",
    };
    let snake = table.trim_end_matches('s');
    let mut sql = Vec::new();
    if rng.random_bool(0.5) {
        sql.push(SqlTemplate {
            name: "User Load".into(),
            table: "users".into(),
            caller_location: "app/controllers/application_controller.rb:18".into(),
            fingerprint: hex_id(rng, 8),
        });
    }
    sql.push(SqlTemplate {
        name: format!("{model} {verb}"),
        table: table.into(),
        caller_location: format!("app/models/{snake}.rb:{}", rng.random_range(10..200)),
        fingerprint: hex_id(rng, 8),
    });
    if rng.random_bool(0.25) {
        sql.push(SqlTemplate {
            name: "LineItem Load".into(),
            table: "line_items".into(),
            caller_location: format!("app/models/{snake}.rb:{}", rng.random_range(10..200)),
            fingerprint: hex_id(rng, 8),
        });
    }
    Endpoint {
        method,
        controller: format!("{model}sController"),
        handler: format!("{model}sController#{action}"),
        source_file: format!("app/controllers/{table}_controller.rb"),
        route,
        weight: weight * rng.random_range(1..=4),
        base_ms,
        sql,
    }
}
