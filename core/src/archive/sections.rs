//! One handler per archive section: check the record, then (into an empty vault) seal it
//! under this vault's key and insert it, or (into a vault that holds something) only note
//! whether its id is already here.

use carnet_schemas::{
    ArchivedAccessEntry, ArchivedClient, ArchivedGrant, ArchivedIntent, ArchivedIntentState,
    ArchivedOffer, ArchivedPromise, ArchivedReceipt, ArchivedSubscription, Incident, Interaction,
    InteractionFields, PromiseState, Purchase, Vendor, ids::InteractionKind,
};
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;

use super::import::{ImportError, Importer, verify_receipt};
use crate::access::chain;
use crate::access::log::AccessRecord;
use crate::access::{ClientRecord, ReceiptRecord, pseudonym};
use crate::intents::OfferRecord;
use crate::store::access::{self as access_rows, AccessRow, ClientRow, GrantRow, ReceiptRow};
use crate::store::archive::{self as rows, GrantArchiveRow, IntentArchiveRow};
use crate::store::intents::{self as intent_rows, IntentRow, OfferRow, StoredIntentState};
use crate::store::records::{self, Row};
use crate::vault::{Sealable, Table};

impl Importer<'_> {
    /// Seals a ledger record under this vault's key and inserts it with its own id and
    /// (created, updated) times; `noun` names it if the archive holds it twice.
    fn insert_record<T: Sealable>(
        &self,
        noun: &str,
        id: &str,
        vendor_id: Option<&str>,
        (created_at, updated_at): (DateTime<Utc>, DateTime<Utc>),
        fields: &T,
    ) -> Result<(), ImportError> {
        let row = Row {
            id: id.to_owned(),
            vendor_id: vendor_id.map(str::to_owned),
            created_at,
            updated_at,
            sealed: self.keys.seal().seal(id, fields),
        };
        self.inserted(records::insert(self.c, &row), &format!("{noun} {id}"))
    }

    pub(super) fn vendor(&mut self, v: Vendor) -> Result<(), ImportError> {
        self.counts.vendors += 1;
        if !self.vendor_names.insert(v.fields.name.as_str().to_owned()) {
            return Err(self.invalid(format!(
                "two vendors are named {:?} (names are unique)",
                v.fields.name.as_str()
            )));
        }
        if !self.taken()?.seeds.contains_key(v.id.as_str()) {
            return Err(self.invalid(format!("keys.receipt_keys has no seed for {}", v.id)));
        }
        if !self.writing {
            return self.conflict(Table::Vendors, "vendor", v.id.as_str());
        }
        self.insert_record(
            "vendor",
            v.id.as_str(),
            None,
            (v.created_at, v.updated_at),
            &v.fields,
        )
    }

    pub(super) fn incident(&mut self, i: Incident) -> Result<(), ImportError> {
        self.counts.incidents += 1;
        if !self.writing {
            return self.conflict(Table::Incidents, "incident", i.id.as_str());
        }
        self.require(Table::Vendors, "vendor", i.fields.vendor_id.as_str())?;
        self.insert_record(
            "incident",
            i.id.as_str(),
            Some(i.fields.vendor_id.as_str()),
            (i.created_at, i.updated_at),
            &i.fields,
        )?;
        self.incident_vendors
            .insert(i.id.to_string(), i.fields.vendor_id.to_string());
        Ok(())
    }

    pub(super) fn purchase(&mut self, p: Purchase) -> Result<(), ImportError> {
        self.counts.purchases += 1;
        if !self.writing {
            return self.conflict(Table::Purchases, "purchase", p.id.as_str());
        }
        self.require(Table::Vendors, "vendor", p.fields.vendor_id.as_str())?;
        self.insert_record(
            "purchase",
            p.id.as_str(),
            Some(p.fields.vendor_id.as_str()),
            (p.created_at, p.updated_at),
            &p.fields,
        )
    }

    pub(super) fn interaction(&mut self, i: Interaction) -> Result<(), ImportError> {
        self.counts.interactions += 1;
        if !self.writing {
            return self.conflict(Table::Interactions, "interaction", i.id.as_str());
        }
        self.require(Table::Vendors, "vendor", i.fields.vendor_id.as_str())?;
        if i.fields.next_due.is_some() && i.fields.next_step.is_none() {
            return Err(self.invalid("next_due is set without a next_step"));
        }
        // An incident deleted since may still be named; one that is here is the same vendor's.
        if let Some(incident) = &i.fields.incident_id
            && self
                .incident_vendors
                .get(incident.as_str())
                .is_some_and(|v| v != i.fields.vendor_id.as_str())
        {
            return Err(self.invalid(format!("incident {incident} is with another vendor")));
        }
        self.insert_record(
            "interaction",
            i.id.as_str(),
            Some(i.fields.vendor_id.as_str()),
            (i.created_at, i.updated_at),
            &i.fields,
        )?;
        records::set_shared(self.c, i.id.as_str(), i.fields.shared)?;
        Ok(())
    }

    pub(super) fn promise(&mut self, p: ArchivedPromise) -> Result<(), ImportError> {
        self.counts.promises += 1;
        if !self.writing {
            return self.conflict(Table::Promises, "promise", p.id.as_str());
        }
        self.require(Table::Vendors, "vendor", p.fields.vendor_id.as_str())?;
        if (p.fields.state == PromiseState::Kept) != p.fields.kept_at.is_some() {
            return Err(self.invalid("kept_at is set exactly when the promise is kept"));
        }
        // An interaction deleted since may still be named; one that is here is the same
        // vendor's.
        if let Some(interaction) = &p.fields.interaction_id
            && let Some(row) = records::get::<InteractionFields>(self.c, interaction.as_str())?
        {
            let opened = crate::ledger::open::<InteractionKind, _>(self.keys, row)
                .map_err(|e| self.invalid(e.to_string()))?;
            if opened.fields.vendor_id != p.fields.vendor_id {
                return Err(
                    self.invalid(format!("interaction {interaction} is with another vendor"))
                );
            }
        }
        self.insert_record(
            "promise",
            p.id.as_str(),
            Some(p.fields.vendor_id.as_str()),
            (p.created_at, p.updated_at),
            &p.fields,
        )
    }

    pub(super) fn subscription(&mut self, s: ArchivedSubscription) -> Result<(), ImportError> {
        self.counts.subscriptions += 1;
        if !self.writing {
            return self.conflict(Table::Subscriptions, "subscription", s.id.as_str());
        }
        self.require(Table::Vendors, "vendor", s.fields.vendor_id.as_str())?;
        crate::ledger::subscriptions::check(&s.fields).map_err(|e| self.invalid(e.to_string()))?;
        self.insert_record(
            "subscription",
            s.id.as_str(),
            Some(s.fields.vendor_id.as_str()),
            (s.created_at, s.updated_at),
            &s.fields,
        )
    }

    pub(super) fn intent(&mut self, i: ArchivedIntent) -> Result<(), ImportError> {
        self.counts.intents += 1;
        if !self.writing {
            return self.conflict(Table::Intents, "intent", i.id.as_str());
        }
        let row = IntentArchiveRow {
            row: IntentRow {
                id: i.id.to_string(),
                state: match i.state {
                    ArchivedIntentState::Draft => StoredIntentState::Draft,
                    ArchivedIntentState::Active => StoredIntentState::Active,
                    ArchivedIntentState::Fulfilled => StoredIntentState::Fulfilled,
                    ArchivedIntentState::Withdrawn => StoredIntentState::Withdrawn,
                },
                created_at: i.created_at,
                updated_at: i.updated_at,
                sealed: self.keys.seal().seal(i.id.as_str(), &i.fields),
            },
            activation_announced: i.activation_announced,
            expiry_announced: i.expiry_announced,
        };
        self.inserted(
            rows::insert_intent(self.c, &row),
            &format!("intent {}", i.id),
        )
    }

    pub(super) fn offer(&mut self, o: ArchivedOffer) -> Result<(), ImportError> {
        self.counts.offers += 1;
        if !self.writing {
            return self.conflict(Table::Offers, "offer", o.id.as_str());
        }
        self.require(Table::Intents, "intent", o.intent_id.as_str())?;
        self.require(Table::Vendors, "vendor", o.vendor_id.as_str())?;
        let record = OfferRecord {
            fields: o.fields,
            decline_reason: o.decline_reason,
            purchase_id: o.purchase_id,
        };
        let row = OfferRow {
            id: o.id.to_string(),
            intent_id: o.intent_id.to_string(),
            vendor_id: o.vendor_id.to_string(),
            state: o.state.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            sealed: self.keys.seal().seal(o.id.as_str(), &record),
        };
        self.inserted(
            intent_rows::insert_offer(self.c, &row),
            &format!("offer {}", o.id),
        )
    }

    pub(super) fn client(&mut self, cl: ArchivedClient) -> Result<(), ImportError> {
        self.counts.clients += 1;
        if !self.writing {
            return self.conflict(Table::Clients, "client", cl.client_id.as_str());
        }
        self.require(Table::Vendors, "vendor", cl.vendor_id.as_str())?;
        if access_rows::client_of_vendor::<()>(self.c, cl.vendor_id.as_str())?.is_some() {
            return Err(self.invalid(format!("vendor {} has more than one client", cl.vendor_id)));
        }
        let secret_hash = BASE64URL_NOPAD
            .decode(cl.secret_sha256.as_bytes())
            .ok()
            .filter(|h| h.len() == 32)
            .ok_or_else(|| self.invalid("secret_sha256 is not 32 bytes in base64url"))?;
        if cl
            .webhook_secret
            .as_deref()
            .is_some_and(|w| !w.starts_with("whsec_") || w.len() > 128)
        {
            return Err(self.invalid("webhook_secret is not a whsec_… secret"));
        }
        let record = ClientRecord {
            redirect_uris: cl.redirect_uris,
            webhook_url: cl.webhook_url,
            webhook_secret: cl.webhook_secret,
            grant_types: cl.grant_types,
        };
        let row = ClientRow {
            id: cl.client_id.to_string(),
            vendor_id: cl.vendor_id.to_string(),
            secret_hash,
            verified: cl.verified,
            created_at: cl.created_at,
            updated_at: cl.updated_at,
            sealed: self.keys.seal().seal(cl.client_id.as_str(), &record),
        };
        let what = format!("client {}", cl.client_id);
        self.inserted(access_rows::insert_client(self.c, &row), &what)
    }

    pub(super) fn grant(&mut self, g: ArchivedGrant) -> Result<(), ImportError> {
        self.counts.grants += 1;
        if !self.writing {
            return self.conflict(Table::Grants, "grant", g.id.as_str());
        }
        self.require(Table::Vendors, "vendor", g.fields.vendor_id.as_str())?;
        if g.fields.scopes.is_empty() || g.expires_at <= g.created_at {
            return Err(self.invalid("a grant has scopes and ends after it starts"));
        }
        let row = GrantArchiveRow {
            row: GrantRow {
                id: g.id.to_string(),
                vendor_id: g.fields.vendor_id.to_string(),
                created_at: g.created_at,
                expires_at: g.expires_at,
                revoked_at: g.revoked_at,
                sealed: self.keys.seal().seal(g.id.as_str(), &g.fields),
            },
            updated_at: g.updated_at,
        };
        self.inserted(rows::insert_grant(self.c, &row), &format!("grant {}", g.id))
    }

    pub(super) fn receipt(&mut self, r: ArchivedReceipt) -> Result<(), ImportError> {
        self.counts.receipts += 1;
        let taken = self.taken()?;
        let seed = taken.seeds.get(r.vendor_id.as_str()).ok_or_else(|| {
            self.invalid(format!("keys.receipt_keys has no seed for {}", r.vendor_id))
        })?;
        let payload = verify_receipt(&r.jws, seed).ok_or_else(|| {
            self.invalid(format!(
                "receipt {} does not verify with the receipt key the archive gives for {}",
                r.id, r.vendor_id
            ))
        })?;
        let principal = pseudonym::customer_ref_with(&taken.pseudonym_hmac, &r.vendor_id);
        if payload.consent_receipt_id != r.id.as_str()
            || payload.carnet.grant_id != r.grant_id
            || payload.pii_principal_id != principal
        {
            return Err(self.invalid(format!(
                "receipt {} does not match what it signs (its id, grant or customer_ref)",
                r.id
            )));
        }
        if !self.writing {
            return self.conflict(Table::Receipts, "receipt", r.id.as_str());
        }
        let row = ReceiptRow {
            id: r.id.to_string(),
            vendor_id: r.vendor_id.to_string(),
            grant_id: r.grant_id.to_string(),
            created_at: r.created_at,
            sealed: self
                .keys
                .seal()
                .seal(r.id.as_str(), &ReceiptRecord { jws: r.jws }),
        };
        self.inserted(
            access_rows::insert_receipt(self.c, &row),
            &format!("receipt {}", r.id),
        )
    }

    /// The head the archive's entries are chained after: this (empty) log's, moved past the
    /// archive's checkpoint when it has one, so the pruned entries stay counted and said.
    pub(super) fn start_chain(&mut self) -> Result<(), ImportError> {
        let mut head = chain::head_for_append(self.c, self.keys)?;
        if let Some(pruned) = &self.checkpoint {
            crate::access::checkpoint::adopt(self.c, self.keys, &mut head, pruned)?;
        }
        self.head = Some(head);
        Ok(())
    }

    pub(super) fn access(&mut self, e: ArchivedAccessEntry) -> Result<(), ImportError> {
        self.counts.access_log += 1;
        if self.last_seq.is_some_and(|last| e.seq <= last) {
            return Err(self.invalid("entries must be in log order (seq increasing)"));
        }
        self.last_seq = Some(e.seq);
        let well_formed = !e.id.is_empty()
            && e.id.len() <= 64
            && e.id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'));
        if !well_formed {
            return Err(self.invalid("its id is not lower-case base32hex"));
        }
        if !self.writing {
            return self.conflict(Table::AccessLog, "access-log entry", &e.id);
        }
        if self.head.is_none() {
            self.start_chain()?;
        }
        let record = AccessRecord {
            grant_id: e.grant_id,
            endpoint: e.endpoint,
            scope: e.scope,
            ids: e.ids,
            status: e.status,
            withheld: e.withheld,
            repeats: e.repeats,
        };
        let mut row = AccessRow {
            seq: 0,
            sealed: crate::access::record::seal_record(self.keys, &e.id, &record),
            id: e.id,
            at: e.at,
            vendor_id: e.vendor_id.to_string(),
            client_id: e.client_id.to_string(),
            mac: Vec::new(),
        };
        let what = format!("access-log entry {}", row.id);
        if let Some(head) = self.head.as_mut() {
            chain::link(self.keys, head, &mut row);
        }
        // Another position's id (kept from the archive) may be an entry's already; a later
        // entry whose position gives an id already held gets another (`new_entry_id`).
        if access_rows::derived_position(&row.id).is_some_and(|s| s != row.seq)
            && access_rows::access_id_exists(self.c, &row.id)?
        {
            return Err(self.invalid(format!("the archive holds {what} more than once")));
        }
        self.inserted(access_rows::append_access(self.c, &row), &what)
    }
}
