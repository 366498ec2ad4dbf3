//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! parameter types below, served at `/api/v1/openapi.json`. The parameter types only describe:
//! handlers parse the raw query string themselves, so that an unknown parameter is an error.

use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// An error answer (RFC 9457), sent as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[schema(example = "https://hubnet.invalid/problems/bad-request")]
    pub r#type: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong, for people.
    pub detail: String,
}

/// A record kind a query can ask for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindParam {
    /// Best-practice records.
    Practice,
    /// Event notices.
    Event,
    /// Reform profiles.
    ReformProfile,
    /// Institutions.
    Institution,
    /// Expert profiles (those past their `reconfirm_by` are left out).
    Expert,
    /// Joint programmes.
    Programme,
}

/// Result order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    /// Best match first (the default with `q`).
    Relevance,
    /// Latest published first (the default without `q`).
    Newest,
    /// Earliest published first.
    Oldest,
    /// Soonest event start first.
    Start,
}

/// A programme status (IATI ActivityStatus 1 to 6).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum StatusParam {
    /// Being identified and prepared.
    Pipeline,
    /// Running.
    Implementation,
    /// Activities done, being closed.
    Completion,
    /// Closed; results still reported.
    PostCompletion,
    /// Stopped before completion.
    Cancelled,
    /// Paused.
    Suspended,
}

/// A programme participant's role.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RoleParam {
    /// Runs it (the publishing member).
    Lead,
    /// Provides funds.
    Funding,
    /// Carries out activities.
    Implementing,
    /// Benefits from it.
    Beneficiary,
    /// Answers for it.
    Accountable,
}

/// Where a programme stands with its participants.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum StateParam {
    /// Not every member participant confirmed the version in force.
    Proposed,
    /// Every member participant confirmed it.
    Confirmed,
    /// Its lead retracted it.
    Retracted,
}

/// The filters every query endpoint takes (records, feeds, export). Values of one repeatable
/// filter are alternatives; different filters must all hold.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct QueryParams {
    /// Full text, in any of the region's languages (Russian and English are stemmed).
    /// Operators: `"a phrase"`, `-excluded`, `a OR b`.
    #[param(max_length = 500)]
    q: Option<String>,
    /// `practice`, `event`, `reform_profile`, `institution`, `expert` or `programme`; repeatable.
    #[param(style = Form, explode)]
    kind: Option<Vec<KindParam>>,
    /// ISO 3166-1 alpha-2 code or `HUB`; repeatable.
    #[param(style = Form, explode, pattern = "^([A-Za-z]{2}|HUB|hub)$")]
    country: Option<Vec<String>>,
    /// A topic slug of the charter's vocabulary (`e-government`, `recruitment`, …; see
    /// `/api/v1/vocabulary`); repeatable.
    #[param(style = Form, explode)]
    topic: Option<Vec<String>>,
    /// A reform area (or topic) slug of the vocabulary: reform profiles covering it
    /// (`public-service-hrm`, …); repeatable.
    #[param(style = Form, explode)]
    area: Option<Vec<String>>,
    /// A member code (`KZ`) or a publishing key (64 hex digits); repeatable.
    #[param(style = Form, explode)]
    author: Option<Vec<String>>,
    /// A BCP 47 language tag (`ru`, `kk`, `uz-Latn`): records with text in it; `q` then searches
    /// that text only. Repeatable.
    #[param(style = Form, explode)]
    lang: Option<Vec<String>>,
    /// A programme status (IATI activity status): programmes in it; repeatable.
    #[param(style = Form, explode)]
    status: Option<Vec<StatusParam>>,
    /// A participant role: programmes with a participant in it; repeatable.
    #[param(style = Form, explode)]
    role: Option<Vec<RoleParam>>,
    /// A member code: programmes it takes part in; repeatable.
    #[param(style = Form, explode, pattern = "^([A-Za-z]{2}|HUB|hub)$")]
    participant: Option<Vec<String>>,
    /// Where programmes stand with their participants: `proposed` (not every member participant
    /// confirmed the version in force), `confirmed`, `retracted`; repeatable.
    #[param(style = Form, explode)]
    state: Option<Vec<StateParam>>,
    /// Published at or after: RFC 3339 time or a date `YYYY-MM-DD` (UTC).
    created_from: Option<String>,
    /// Published at or before: RFC 3339 time or a date (its whole day).
    created_to: Option<String>,
    /// Events starting at or after this time or date.
    start_from: Option<String>,
    /// Events starting at or before this time or date.
    start_to: Option<String>,
    /// Result order.
    sort: Option<SortParam>,
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page of the same query.
    cursor: Option<String>,
    /// Include retracted records (hidden by default).
    include_retracted: Option<bool>,
}

/// Paging through an author's log.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LogParams {
    /// The first seq.
    #[param(minimum = 1, default = 1)]
    from: Option<u64>,
    /// How many entries.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
}

/// The document's frame; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hubnet node API",
        description = "Query the signed corpus of the Regional Hub of Civil Service: practices, \
            events and reform profiles with their signed bytes, comparisons of countries' reform \
            profiles, members, peers, logs and fork evidence; feeds and exports. Reads are public; writes need the admin token (`Authorization: Bearer`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "records", description = "Practices, events and reform profiles, with their signed bytes"),
        (name = "profiles", description = "Reform profiles compared across countries and over time"),
        (name = "network", description = "Members, peers, logs, forks and status"),
        (name = "feeds", description = "iCalendar, Atom, CSV and JSON"),
        (name = "directory", description = "Experts and institutions: the directory, its vCard and CSV exports, an institution's references, profiles to re-confirm"),
        (name = "publish", description = "Publishing (admin token)"),
        (name = "operations", description = "Liveness and readiness probes, for supervisors and load balancers"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
