//! The practice kind: a best-practice case study of a reform. Its message is `Practice` in
//! `proto/hubnet/v1/record.proto`; here are its body rules and its draft format.

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{
    AttachmentDraft, ContactDraft, DraftError, LinkDraft, Localized, PeriodDraft, localized,
    opt_map, opt_str, record_ids,
};
use crate::keys::parse_hex32;
use crate::validate::{Checker, R, Rules, Size, digest};

/// Checks a practice body.
pub fn validate(p: &pb::Practice, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("title", p.title.as_ref(), Size::Short, true)?;
    v.localized("summary", p.summary.as_ref(), Size::Summary, true)?;
    v.localized("body", p.body.as_ref(), Size::Body, false)?;
    v.country("country", &p.country)?;
    v.topics("topics", &p.topics, true)?;
    if let Some(period) = &p.reform_period {
        v.period("reform_period", period)?;
    }
    v.list_len("institutions", p.institutions.len())?;
    for (i, inst) in p.institutions.iter().enumerate() {
        v.localized(&format!("institutions[{i}]"), Some(inst), Size::Short, true)?;
    }
    v.localized("results", p.results.as_ref(), Size::Summary, false)?;
    v.list_len("contacts", p.contacts.len())?;
    for (i, c) in p.contacts.iter().enumerate() {
        let f = format!("contacts[{i}]");
        v.text(&format!("{f}.name"), &c.name, Size::Short, true)?;
        v.text(&format!("{f}.role"), &c.role, Size::Short, false)?;
        v.text(
            &format!("{f}.organisation"),
            &c.organisation,
            Size::Short,
            false,
        )?;
        v.text(&format!("{f}.phone"), &c.phone, Size::Short, false)?;
        v.email(&format!("{f}.email"), &c.email)?;
    }
    v.list_len("links", p.links.len())?;
    for (i, l) in p.links.iter().enumerate() {
        v.url(&format!("links[{i}].url"), &l.url, true)?;
        v.localized(
            &format!("links[{i}].title"),
            l.title.as_ref(),
            Size::Short,
            false,
        )?;
    }
    v.list_len("attachments", p.attachments.len())?;
    for (i, a) in p.attachments.iter().enumerate() {
        let f = format!("attachments[{i}]");
        v.text(&format!("{f}.name"), &a.name, Size::Short, true)?;
        v.text(
            &format!("{f}.media_type"),
            &a.media_type,
            Size::Short,
            false,
        )?;
        digest(&format!("{f}.sha256"), &a.sha256)?;
        v.url(&format!("{f}.url"), &a.url, false)?;
    }
    v.institution_ids("institution_ids", &p.institution_ids)?;
    v.text("license", &p.license, Size::Short, false)
}

/// A practice draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PracticeDraft {
    /// Title.
    pub title: Localized,
    /// Summary.
    pub summary: Localized,
    /// Topic slugs.
    pub topics: Vec<String>,
    /// Markdown body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Localized>,
    /// Country; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Reform period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reform_period: Option<PeriodDraft>,
    /// Institutions involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institutions: Vec<Localized>,
    /// Results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Localized>,
    /// Contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<ContactDraft>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkDraft>,
    /// Attachments by hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentDraft>,
    /// SPDX licence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Record ids of institution records it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institution_ids: Vec<String>,
}

impl PracticeDraft {
    pub(crate) fn to_proto(&self, author_country: &str) -> Result<pb::Practice, DraftError> {
        let mut attachments = Vec::with_capacity(self.attachments.len());
        for (index, a) in self.attachments.iter().enumerate() {
            let sha256 = parse_hex32(&a.sha256).map_err(|_| DraftError::BadHash {
                index,
                value: a.sha256.clone(),
            })?;
            attachments.push(pb::Attachment {
                name: a.name.clone(),
                media_type: a.media_type.clone().unwrap_or_default(),
                sha256: sha256.to_vec(),
                size: a.size,
                url: a.url.clone().unwrap_or_default(),
            });
        }
        Ok(pb::Practice {
            title: localized(Some(&self.title)),
            summary: localized(Some(&self.summary)),
            body: localized(self.body.as_ref()),
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            topics: self.topics.clone(),
            reform_period: self.reform_period.as_ref().map(|p| pb::Period {
                start: p.start.clone(),
                end: p.end.clone().unwrap_or_default(),
            }),
            institutions: self
                .institutions
                .iter()
                .map(|i| pb::LocalizedText { text: i.clone() })
                .collect(),
            results: localized(self.results.as_ref()),
            contacts: self
                .contacts
                .iter()
                .map(|c| pb::Contact {
                    name: c.name.clone(),
                    role: c.role.clone().unwrap_or_default(),
                    organisation: c.organisation.clone().unwrap_or_default(),
                    email: c.email.clone().unwrap_or_default(),
                    phone: c.phone.clone().unwrap_or_default(),
                })
                .collect(),
            links: self
                .links
                .iter()
                .map(|l| pb::Link {
                    url: l.url.clone(),
                    title: localized(l.title.as_ref()),
                })
                .collect(),
            attachments,
            license: self.license.clone().unwrap_or_default(),
            institution_ids: record_ids("institution_ids", &self.institution_ids)?,
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(p: &pb::Practice) -> Self {
        Self {
            title: opt_map(p.title.as_ref()).unwrap_or_default(),
            summary: opt_map(p.summary.as_ref()).unwrap_or_default(),
            topics: p.topics.clone(),
            body: opt_map(p.body.as_ref()),
            country: opt_str(&p.country),
            reform_period: p.reform_period.as_ref().map(|r| PeriodDraft {
                start: r.start.clone(),
                end: opt_str(&r.end),
            }),
            institutions: p.institutions.iter().map(|i| i.text.clone()).collect(),
            results: opt_map(p.results.as_ref()),
            contacts: p
                .contacts
                .iter()
                .map(|c| ContactDraft {
                    name: c.name.clone(),
                    role: opt_str(&c.role),
                    organisation: opt_str(&c.organisation),
                    email: opt_str(&c.email),
                    phone: opt_str(&c.phone),
                })
                .collect(),
            links: p
                .links
                .iter()
                .map(|l| LinkDraft {
                    url: l.url.clone(),
                    title: opt_map(l.title.as_ref()),
                })
                .collect(),
            attachments: p
                .attachments
                .iter()
                .map(|a| AttachmentDraft {
                    name: a.name.clone(),
                    media_type: opt_str(&a.media_type),
                    sha256: hex::encode(&a.sha256),
                    size: a.size,
                    url: opt_str(&a.url),
                })
                .collect(),
            license: opt_str(&p.license),
            institution_ids: p.institution_ids.iter().map(hex::encode).collect(),
        }
    }
}
