//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! parameter types below, served at `/api/v1/openapi.json`. The parameter types only describe:
//! handlers parse the raw query string themselves, so that an unknown parameter is an error.
//! The document validates with `openapi-spec-validator` (the tests in `openapi_tests.rs` run it,
//! and check in Rust that every reference resolves and every id and key has its pattern).

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{IntoParams, OpenApi, PartialSchema, ToSchema};

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

/// A record id: the SHA-256 of the record's header bytes, 64 hex digits. The node writes ids in
/// lowercase and reads either case (`RecordId::from_str`).
#[derive(Debug, ToSchema)]
#[schema(as = RecordId, value_type = String, pattern = "^[0-9a-fA-F]{64}$")]
#[allow(dead_code)]
pub struct RecordIdParam(String);

/// An author: a member code of the charter (ISO 3166-1 alpha-2 or `HUB`, any case) or a
/// publishing key (an Ed25519 public key, 64 hex digits; written in lowercase, read in either
/// case).
#[derive(Debug, ToSchema)]
#[schema(
    as = Author,
    value_type = String,
    pattern = "^([A-Za-z]{2}|[Hh][Uu][Bb]|[0-9a-fA-F]{64})$"
)]
#[allow(dead_code)]
pub struct AuthorParam(String);

/// A protobuf message of `proto/proto/hubnet/v1/` as a request or response body: its schema is
/// binary (`type: string`, `format: binary`, `contentMediaType: application/x-protobuf`), named
/// after the message (`hubnet.v1.SignedRecord`), with the message and its `.proto` file (relative
/// to the repository's root) in `x-protobuf-message` and `x-protobuf-file`. Written by hand
/// because utoipa's derive cannot put extensions on a schema of a newtype.
macro_rules! protobuf_message {
    ($(#[$doc:meta])* $name:ident, $message:literal, $file:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .content_media_type(super::PROTOBUF)
                    .description(Some(concat!(
                        "A `", $message, "` protobuf message, encoded; its definition is `",
                        $file, "` in the hubnet repository."
                    )))
                    .extensions(Some(
                        ExtensionsBuilder::new()
                            .add("x-protobuf-message", $message)
                            .add("x-protobuf-file", $file)
                            .build(),
                    ))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($message)
            }
        }
    };
}

protobuf_message!(
    /// `POST /api/v1/records/raw`'s body and `GET /api/v1/records/{id}/raw`'s answer.
    SignedRecordMessage,
    "hubnet.v1.SignedRecord",
    "proto/proto/hubnet/v1/record.proto"
);
protobuf_message!(
    /// `POST /api/v1/governance/decisions`'s body.
    SignedDecisionMessage,
    "hubnet.v1.SignedDecision",
    "proto/proto/hubnet/v1/governance.proto"
);
protobuf_message!(
    /// `POST /api/v1/checkpoints`'s body.
    SignedCheckpointMessage,
    "hubnet.v1.SignedCheckpoint",
    "proto/proto/hubnet/v1/governance.proto"
);
protobuf_message!(
    /// `GET /api/v1/bundle`'s answer.
    BundleMessage,
    "hubnet.v1.Bundle",
    "proto/proto/hubnet/v1/bundle.proto"
);

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

/// What `GET /api/v1/records` returns of each record.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FieldsParam {
    /// Only these fields of each record, comma-separated (repeatable): any of `id`, `network_id`,
    /// `member`, `author`, `seq`, `prev`, `created_at`, `created_at_ms`, `kind`, `body`,
    /// `erased`, `signed`, `current`, `updated_at`, `retracted`, `amendment`, `retraction`, and
    /// `title` and `summary` (the texts in force, by language). For clients that do not verify:
    /// without `signed` (and `body`), an answer cannot be checked. Absent: whole records.
    #[param(pattern = "^[a-z_]+(,[a-z_]+)*$", example = "id,title,kind")]
    fields: Option<String>,
}

/// The filters every query endpoint takes (records, feeds, export). Values of one repeatable
/// filter are alternatives; different filters must all hold.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct QueryParams {
    /// Full text, in any of the region's languages (Russian and English are stemmed).
    /// Operators: `"a phrase"`, `-excluded`, `a OR b`; field syntax, ranges and sets are read
    /// as their words (`name:value` is the words `name` and `value`).
    #[param(max_length = 500)]
    q: Option<String>,
    /// `practice`, `event`, `reform_profile`, `institution`, `expert` or `programme`; repeatable.
    #[param(style = Form, explode)]
    kind: Option<Vec<KindParam>>,
    /// ISO 3166-1 alpha-2 code or `HUB`; repeatable.
    #[param(style = Form, explode, pattern = "^([A-Za-z]{2}|[Hh][Uu][Bb])$")]
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
    author: Option<Vec<AuthorParam>>,
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
    #[param(style = Form, explode, pattern = "^([A-Za-z]{2}|[Hh][Uu][Bb])$")]
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
        (name = "governance", description = "The charter's decisions, checkpoints and the signed bundle of everything"),
    ),
    components(schemas(
        Problem,
        RecordIdParam,
        AuthorParam,
        KindParam,
        SortParam,
        StatusParam,
        RoleParam,
        StateParam,
        SignedRecordMessage,
        SignedDecisionMessage,
        SignedCheckpointMessage,
        BundleMessage
    )),
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
