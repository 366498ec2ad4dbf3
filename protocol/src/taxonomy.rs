//! The hub's topic taxonomy: the slugs a record may carry in `topics`.

/// Every accepted topic slug, in display order.
pub const TOPICS: &[&str] = &[
    "recruitment",
    "performance-management",
    "ethics-integrity",
    "e-government",
    "service-delivery",
    "training",
    "pay",
    "legal-framework",
    "anti-corruption",
    "leadership",
    "hr-management",
    "digital-skills",
    "innovation",
    "decentralisation",
    "gender-equality",
    "public-administration-reform",
];

/// Whether `slug` is in the taxonomy.
pub fn is_topic(slug: &str) -> bool {
    TOPICS.contains(&slug)
}
