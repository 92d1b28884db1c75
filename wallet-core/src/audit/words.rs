//! The audit log in words, in each language the wallet speaks: one template
//! per kind of event, whose `{field}`s are the event's own fields (its serde
//! form names them), so a new field needs no code here, only words.

use serde_json::Value;

use super::{Actor, Event};
use crate::lang::Lang;
use crate::share::grant::{Purpose, human_time};

/// (event kind as serialised, English, Urdu, Hindi)
const EVENTS: &[(&str, &str, &str, &str)] = &[
    (
        "vault_created",
        "created wallet {wallet_id}",
        "والٹ {wallet_id} بنایا",
        "वॉलेट {wallet_id} बनाया",
    ),
    (
        "passphrase_changed",
        "changed the passphrase",
        "پاس فریز تبدیل کیا",
        "पासफ़्रेज़ बदला",
    ),
    (
        "keys_rotated",
        "changed the passphrase and sealed all {values} stored values under a new key",
        "پاس فریز تبدیل کیا اور تمام {values} محفوظ اقدار نئی کلید سے دوبارہ مہر بند کیں",
        "पासफ़्रेज़ बदला और सभी {values} संग्रहीत मान नई कुंजी से फिर से सील किए",
    ),
    (
        "profile_added",
        "added profile '{handle}'",
        "پروفائل '{handle}' شامل کیا",
        "प्रोफ़ाइल '{handle}' जोड़ी",
    ),
    (
        "profile_removed",
        "removed profile '{handle}'",
        "پروفائل '{handle}' ہٹایا",
        "प्रोफ़ाइल '{handle}' हटाई",
    ),
    (
        "imported",
        "imported {added} record(s) from {source} into '{profile}' ({duplicates} already present)",
        "{source} سے {added} ریکارڈ '{profile}' میں شامل کیے ({duplicates} پہلے سے موجود)",
        "{source} से {added} रिकॉर्ड '{profile}' में आयात किए ({duplicates} पहले से मौजूद)",
    ),
    (
        "deleted",
        "deleted {record} ({title})",
        "{record} ({title}) حذف کیا",
        "{record} ({title}) हटाया",
    ),
    (
        "exported",
        "exported {records} record(s) of '{profile}' to {to}",
        "'{profile}' کے {records} ریکارڈ {to} کو برآمد کیے",
        "'{profile}' के {records} रिकॉर्ड {to} को निर्यात किए",
    ),
    ("read", "read {record}", "{record} پڑھا", "{record} पढ़ा"),
    (
        "denied",
        "denied {what}: {reason}",
        "{what} سے انکار: {reason}",
        "{what} से इनकार: {reason}",
    ),
    ("note", "{text}", "{text}", "{text}"),
    (
        "request_received",
        "opened consent request {request} from {from}: {asked}",
        "{from} کی رضامندی کی درخواست {request} کھولی: {asked}",
        "{from} का सहमति अनुरोध {request} खोला: {asked}",
    ),
    (
        "request_granted",
        "approved consent request {request} from {from}: {records} record(s) shared",
        "{from} کی رضامندی کی درخواست {request} منظور کی: {records} ریکارڈ شیئر کیے",
        "{from} का सहमति अनुरोध {request} स्वीकार किया: {records} रिकॉर्ड साझा किए",
    ),
    (
        "request_denied",
        "denied consent request {request} from {from}",
        "{from} کی رضامندی کی درخواست {request} مسترد کی",
        "{from} का सहमति अनुरोध {request} अस्वीकार किया",
    ),
    (
        "share_created",
        "shared {records} record(s) with {to} for {purpose} until {expires} ({via}), grant {grant}",
        "{records} ریکارڈ {to} کے ساتھ {purpose} کے لیے {expires} تک شیئر کیے ({via})، اجازت {grant}",
        "{records} रिकॉर्ड {to} के साथ {purpose} के लिए {expires} तक साझा किए ({via}), अनुमति {grant}",
    ),
    (
        "share_fetched",
        "share {grant} opened (use {use_number}) at {at}",
        "شیئر {grant} کھولا گیا (استعمال {use_number}) بوقت {at}",
        "साझा {grant} खोला गया (उपयोग {use_number}) {at} पर",
    ),
    (
        "share_revoked",
        "revoked share {grant}",
        "شیئر {grant} منسوخ کیا",
        "साझा {grant} रद्द किया",
    ),
    (
        "plugin_installed",
        "installed plugin {plugin} {version}, allowed to: {permissions}",
        "پلگ ان {plugin} {version} انسٹال کیا، اجازت: {permissions}",
        "प्लगइन {plugin} {version} इंस्टॉल किया, अनुमति: {permissions}",
    ),
    (
        "plugin_removed",
        "removed plugin {plugin}",
        "پلگ ان {plugin} ہٹایا",
        "प्लगइन {plugin} हटाया",
    ),
    (
        "plugin_ran",
        "ran {plugin} {action}: {outcome}",
        "{plugin} چلایا، {action}: {outcome}",
        "{plugin} चलाया, {action}: {outcome}",
    ),
    (
        "setting_changed",
        "changed setting {setting} to '{value}'",
        "ترتیب {setting} کو '{value}' کیا",
        "सेटिंग {setting} को '{value}' किया",
    ),
    (
        "registry_trusted",
        "trusted registry '{registry}' ({providers} providers)",
        "رجسٹری '{registry}' پر اعتماد کیا ({providers} فراہم کنندگان)",
        "रजिस्ट्री '{registry}' पर भरोसा किया ({providers} प्रदाता)",
    ),
    (
        "issuer_trusted",
        "trusted health card issuer {issuer} ({keys} key(s))",
        "ہیلتھ کارڈ جاری کنندہ {issuer} پر اعتماد کیا ({keys} کلیدیں)",
        "हेल्थ कार्ड जारीकर्ता {issuer} पर भरोसा किया ({keys} कुंजियाँ)",
    ),
    (
        "issuer_removed",
        "stopped trusting health card issuer {issuer}",
        "ہیلتھ کارڈ جاری کنندہ {issuer} پر اعتماد ختم کیا",
        "हेल्थ कार्ड जारीकर्ता {issuer} पर भरोसा समाप्त किया",
    ),
    (
        "profile_filled",
        "filled profile '{handle}' from {source}: {details}",
        "پروفائل '{handle}' {source} سے بھرا: {details}",
        "प्रोफ़ाइल '{handle}' {source} से भरी: {details}",
    ),
    (
        "entered",
        "entered {record} into '{profile}' by hand: {title}",
        "'{profile}' میں {record} خود درج کیا: {title}",
        "'{profile}' में {record} ख़ुद दर्ज किया: {title}",
    ),
    (
        "publishers_trusted",
        "trusted registry '{registry}' for its {publishers} plugin publisher(s)",
        "رجسٹری '{registry}' پر اس کے {publishers} پلگ ان ناشرین کے لیے اعتماد کیا",
        "रजिस्ट्री '{registry}' पर उसके {publishers} प्लगइन प्रकाशकों के लिए भरोसा किया",
    ),
];

/// Purposes (ABDM codes) in Urdu and Hindi; English is [`Purpose::words`].
const PURPOSES: &[(&str, &str, &str)] = &[
    ("CAREMGT", "علاج", "इलाज"),
    ("BTG", "ایمرجنسی", "आपातकाल"),
    ("HPAYMT", "انشورنس کلیم", "बीमा दावा"),
    ("PUBHLTH", "صحت عامہ", "जन स्वास्थ्य"),
    ("DSRCH", "تحقیق", "शोध"),
    ("PATRQT", "مریض کی اپنی کاپی", "मरीज़ की अपनी प्रति"),
];

/// One line for people about `event`, in `lang`.
pub fn describe(event: &Event, lang: Lang) -> String {
    let Ok(Value::Object(fields)) = serde_json::to_value(event) else {
        return String::new();
    };
    let kind = fields.get("event").and_then(Value::as_str).unwrap_or_default();
    let Some(&(_, en, ur, hi)) = EVENTS.iter().find(|(k, ..)| *k == kind) else {
        return kind.replace('_', " ");
    };
    let mut text = lang.pick(en, ur, hi).to_string();
    for (field, value) in &fields {
        let shown = match (field.as_str(), value) {
            ("expires" | "at", Value::Number(n)) => n.as_i64().map(human_time).unwrap_or_default(),
            ("purpose", Value::String(code)) => purpose(code, lang),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        text = text.replace(&format!("{{{field}}}"), &shown);
    }
    text
}

/// Who acted, in `lang`.
pub fn actor(actor: &Actor, lang: Lang) -> String {
    match actor {
        Actor::Patient => lang.pick("you", "آپ", "आप").into(),
        Actor::Plugin { name } => lang
            .pick("plugin {name}", "پلگ ان {name}", "प्लगइन {name}")
            .replace("{name}", name),
        Actor::Recipient { who } => who.clone(),
    }
}

/// A purpose code in words; an unknown code as it is.
fn purpose(code: &str, lang: Lang) -> String {
    let Some(p) = Purpose::parse(code) else {
        return code.to_string();
    };
    match PURPOSES.iter().find(|(c, ..)| *c == p.code()) {
        Some(&(_, ur, hi)) => lang.pick(p.words(), ur, hi).to_string(),
        None => p.words().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_words_in_every_language() {
        for (kind, en, ur, hi) in EVENTS {
            assert!(!en.is_empty() && !ur.is_empty() && !hi.is_empty(), "{kind}");
            let fields = |t: &str| t.matches('{').count();
            assert_eq!(
                (fields(en), fields(en)),
                (fields(ur), fields(hi)),
                "{kind}: the same fields"
            );
        }
    }

    #[test]
    fn fields_are_filled_times_as_dates_purposes_in_words() {
        let shared = Event::ShareCreated {
            grant: "g1".into(),
            to: "Dr Ali".into(),
            purpose: "CAREMGT".into(),
            records: 2,
            expires: 0,
            via: "offline".into(),
        };
        assert_eq!(
            describe(&shared, Lang::En),
            "shared 2 record(s) with Dr Ali for treatment until 1970-01-01 00:00 UTC (offline), grant g1"
        );
        assert_eq!(
            describe(&shared, Lang::Ur),
            "2 ریکارڈ Dr Ali کے ساتھ علاج کے لیے 1970-01-01 00:00 UTC تک شیئر کیے (offline)، اجازت g1"
        );
        assert!(!describe(&shared, Lang::Hi).contains('{'));
        let ran = Actor::Plugin { name: "lab".into() };
        assert_eq!(actor(&ran, Lang::Hi), "प्लगइन lab");
    }
}
