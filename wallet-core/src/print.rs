//! Paper: the patient summary and the emergency card as A4 PDF, for a doctor
//! without a phone, an emergency room, a pharmacist.
//!
//! Each page says who the patient is (name, age, sex, national IDs), what
//! matters (problems, allergies, medicines, vaccinations, latest results),
//! and carries the QR code of a share of the same records, signed by the
//! patient, so a reader with a phone can check the paper against them. The
//! labels are in the patient's language (English, Urdu or Hindi) with English
//! beside them, since the doctor may read only English; records keep the words
//! they were written in. Urdu pages run right to left.
//!
//! Fonts are the system's Noto faces (Debian: `fonts-noto-core`), found by
//! [`typeset::Fonts::load`]; nothing is downloaded.

pub mod typeset;

use thiserror::Error;

use crate::ids::ProfileId;
use crate::lang::Lang;
use crate::profile::{Gender, Profile};
use crate::qr::Qr;
use crate::share::emergency::Facts;
use crate::share::grant::{AccessMode, Purpose, human_time};
use crate::share::manage::{Selection, ShareRequest};
use crate::summary::{Flag, Item, Latest, Summary};
use typeset::{Fonts, MARGIN, PAGE_WIDTH, Sheet, Style};

/// Why a printout could not be made.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PrintError {
    /// A font the page needs is not installed.
    #[error(
        "the font {file} is not installed (looked in {}): install the Noto fonts (Debian and Ubuntu: apt install fonts-noto-core) or set AMANAT_FONT_DIR to the folder that holds them",
        searched.join(", ")
    )]
    FontMissing {
        /// The font file.
        file: &'static str,
        /// The folders looked in.
        searched: Vec<String>,
    },
    /// A font file is there but is not a font this can use.
    #[error("the font {file} could not be read (a damaged or different file?)")]
    FontUnreadable {
        /// The font file.
        file: &'static str,
    },
    /// The share's link does not fit in a QR code.
    #[error("the share's link is too long for a QR code on paper: share fewer records, or through a relay")]
    Qr,
    /// The PDF writer refused the pages (a font it cannot embed).
    #[error("the PDF could not be written")]
    Pdf,
}

/// One entry of a summary section: its date, its words, how they look.
struct Entry {
    date: Option<String>,
    text: String,
    style: Style,
}

/// Muted text: dates, captions, "none recorded".
const GREY: (u8, u8, u8) = (90, 90, 90);
/// What must not be missed: a banner, an allergy, a value out of range.
const RED: (u8, u8, u8) = (170, 0, 0);
/// Section headings and their rules.
const BLUE: (u8, u8, u8) = (15, 70, 110);

/// Pages at most: a summary longer than this is cut, and says how many
/// entries the QR code holds beyond the paper.
const MAX_PAGES: usize = 2;

/// The side of a QR code on paper: 0.55 mm a module (phone cameras read it
/// at arm's length), at least 46 mm.
fn qr_size(qr: &Qr) -> f32 {
    ((qr.width() + 8) as f32 * 1.56).clamp(130.0, 240.0)
}

/// What every printout says besides its content: whose it is, in which
/// language, printed when, and the share its QR code opens.
pub struct Paper<'a> {
    /// The patient.
    pub profile: &'a Profile,
    /// The language of the labels (English beside it).
    pub lang: Lang,
    /// Today, `YYYY-MM-DD` (the age, the footer).
    pub today: &'a str,
    /// The link the QR code holds.
    pub link: &'a str,
    /// When it stops opening (seconds since 1970).
    pub expires: i64,
}

/// A PDF and how many pages it has.
pub struct Printout {
    /// The file.
    pub pdf: Vec<u8>,
    /// Its pages (A4).
    pub pages: usize,
}

/// How long a printed summary's QR code opens the records, unless the
/// patient says otherwise: paper is read weeks after it is printed.
pub const SUMMARY_SECONDS: i64 = 30 * 24 * 3600;

/// The share a printed summary's QR code opens: the summary's records, for
/// care, view only; through `relay`, or inside the QR code when `None`.
pub fn summary_share(profile: ProfileId, relay: Option<String>, seconds: i64) -> ShareRequest {
    ShareRequest {
        profile,
        selection: Selection {
            summary: true,
            ..Selection::default()
        },
        purpose: Purpose::CareManagement,
        mode: AccessMode::View,
        seconds,
        to: None,
        uses: None,
        passcode: None,
        relay,
        viewer: None,
        shl: None,
        answering: None,
    }
}

/// Labels: the patient's language with English beside it.
fn label(lang: Lang, en: &str, ur: &str, hi: &str) -> String {
    match lang {
        Lang::En => en.to_string(),
        _ => format!("{} · {en}", lang.pick(en, ur, hi)),
    }
}

fn gender_words(lang: Lang, g: Gender) -> String {
    match g {
        Gender::Female => label(lang, "female", "خاتون", "महिला"),
        Gender::Male => label(lang, "male", "مرد", "पुरुष"),
        Gender::Other => label(lang, "other", "دیگر", "अन्य"),
        Gender::Unknown => label(lang, "sex not stated", "جنس درج نہیں", "लिंग दर्ज नहीं"),
    }
}

/// The block every printout opens with: title, name, birth date, age, sex,
/// national IDs; beside it the QR code and what it is. Leaves the cursor
/// under whichever is longer.
fn head(sheet: &mut Sheet, paper: &Paper, title: &str, qr: &Qr, red: bool) {
    let (lang, profile, today) = (paper.lang, paper.profile, paper.today);
    let size = qr_size(qr);
    let text_width = PAGE_WIDTH - 2.0 * MARGIN - size - 16.0;
    let top = sheet.y;
    let banner = if red {
        Style::BODY.sized(15.0).bold().colored(RED)
    } else {
        Style::BODY.sized(11.0).colored(GREY)
    };
    sheet.paragraph(MARGIN, text_width, title, banner);
    sheet.y += 4.0;
    sheet.paragraph(MARGIN, text_width, &profile.name, Style::BODY.sized(19.0).bold());
    let mut facts = Vec::new();
    if let Some(born) = &profile.birth_date {
        let age = profile
            .age_on(today)
            .map(|a| format!(" ({a} {})", lang.pick("years", "سال", "वर्ष")))
            .unwrap_or_default();
        facts.push(format!(
            "{}: {born}{age}",
            label(lang, "Born", "تاریخ پیدائش", "जन्म तिथि")
        ));
    }
    if let Some(g) = profile.gender {
        facts.push(gender_words(lang, g));
    }
    if let Some(c) = &profile.cnic {
        facts.push(format!("CNIC: {c}"));
    }
    if let Some(a) = &profile.abha_number {
        facts.push(format!("ABHA: {a}"));
    }
    if let Some(a) = &profile.abha_address {
        facts.push(format!("ABHA address: {a}"));
    }
    for line in facts {
        sheet.paragraph(MARGIN, text_width, &line, Style::BODY.sized(10.5));
    }
    let text_bottom = sheet.y;
    sheet.y = top;
    let qr_x = PAGE_WIDTH - MARGIN - size;
    sheet.qr(qr, qr_x, top, size);
    sheet.y = top + size;
    let caption = format!(
        "{} {}",
        lang.pick(
            "Scan with a phone camera: these records, signed by the patient.",
            "فون کے کیمرے سے اسکین کریں: یہی ریکارڈ، مریض کے دستخط کے ساتھ۔",
            "फ़ोन के कैमरे से स्कैन करें: यही रिकॉर्ड, रोगी के हस्ताक्षर सहित।",
        ),
        match lang {
            Lang::En => format!("Valid until {}.", human_time(paper.expires)),
            Lang::Ur => format!("{} تک کارآمد۔", human_time(paper.expires)),
            Lang::Hi => format!("{} तक मान्य।", human_time(paper.expires)),
        }
    );
    sheet.paragraph(qr_x, size, &caption, Style::BODY.sized(8.0).colored(GREY));
    sheet.y = sheet.y.max(text_bottom) + 10.0;
}

/// A section heading with a rule under it, kept with at least two lines of
/// what follows.
fn heading(sheet: &mut Sheet, text: &str) {
    let style = Style::BODY.sized(12.0).bold().colored(BLUE);
    if sheet.room() < style.leading() + 3.0 * Style::BODY.leading() {
        sheet.new_page();
    }
    sheet.y += 6.0;
    sheet.paragraph(MARGIN, PAGE_WIDTH - 2.0 * MARGIN, text, style);
    let y = sheet.y - 2.0;
    sheet.fill(MARGIN, PAGE_WIDTH - 2.0 * MARGIN, y, 0.6, BLUE);
    sheet.y += 3.0;
}

/// One entry: its date in a narrow column, its words wrapped beside it.
fn entry(sheet: &mut Sheet, date: Option<&str>, text: &str, style: Style) {
    const DATE: f32 = 66.0;
    let width = PAGE_WIDTH - 2.0 * MARGIN - DATE;
    if sheet.room() < style.leading() {
        sheet.new_page();
    }
    let top = sheet.y;
    let date = date.map(|d| d.get(..10).unwrap_or(d)).unwrap_or("");
    sheet.text_at(MARGIN, DATE, top, date, Style::BODY.colored(GREY));
    sheet.paragraph(MARGIN + DATE, width, text, style);
}

fn none_recorded(lang: Lang) -> String {
    label(lang, "none recorded", "کوئی اندراج نہیں", "कुछ दर्ज नहीं")
}

/// Vaccinations with one line per vaccine, dated by its latest dose and
/// saying how many there were (a yearly flu shot is one line, not ten).
fn doses(list: &[Item], lang: Lang) -> Vec<Item> {
    let mut lines: Vec<(Item, usize)> = Vec::new();
    for item in list {
        match lines.iter_mut().find(|(l, _)| l.title == item.title) {
            Some((_, n)) => *n += 1,
            None => lines.push((item.clone(), 1)),
        }
    }
    lines
        .into_iter()
        .map(|(mut item, n)| {
            if n > 1 {
                let count = match lang {
                    Lang::En => format!("{n} doses"),
                    Lang::Ur => format!("{n} خوراکیں"),
                    Lang::Hi => format!("{n} खुराक"),
                };
                item.title = format!("{} ({count})", item.title);
            }
            item
        })
        .collect()
}

/// The patient summary: who, then problems, allergies, medicines,
/// vaccinations, latest results and vital signs with their dates, and the
/// QR code of a share of the same records. One A4 page, two at most.
pub fn summary_pdf(fonts: &Fonts, paper: &Paper, summary: &Summary) -> Result<Printout, PrintError> {
    let (lang, profile, today) = (paper.lang, paper.profile, paper.today);
    let qr = Qr::new(paper.link).map_err(|_| PrintError::Qr)?;
    let mut sheet = Sheet::new(fonts, lang.rtl());
    let title = label(lang, "Patient summary", "مریض کا خلاصہ", "रोगी का सारांश");
    head(&mut sheet, paper, &title, &qr, false);
    let lines = |items: &[Item]| -> Vec<Entry> {
        items
            .iter()
            .map(|item| Entry {
                date: item.date.clone(),
                text: match item.status.as_deref() {
                    Some(s) if s != "active" && s != "completed" => format!("{} ({s})", item.title),
                    _ => item.title.clone(),
                },
                style: Style::BODY,
            })
            .collect()
    };
    let measured = |latest: &[Latest]| -> Vec<Entry> {
        latest
            .iter()
            .map(|l| {
                let flag = match l.flag {
                    Some(Flag::High) => Some(lang.pick("high", "زیادہ", "अधिक")),
                    Some(Flag::Low) => Some(lang.pick("low", "کم", "कम")),
                    _ => None,
                };
                Entry {
                    date: l.date.clone(),
                    text: match flag {
                        Some(f) => format!("{}: {} ({f})", l.label, l.value),
                        None => format!("{}: {}", l.label, l.value),
                    },
                    style: if flag.is_some() {
                        Style::BODY.bold().colored(RED)
                    } else {
                        Style::BODY
                    },
                }
            })
            .collect()
    };
    let sections = [
        (
            label(lang, "Problems", "بیماریاں", "बीमारियाँ"),
            lines(&summary.problems),
        ),
        (
            label(lang, "Allergies", "الرجی", "एलर्जी"),
            lines(&summary.allergies),
        ),
        (
            label(lang, "Medicines", "ادویات", "दवाइयाँ"),
            lines(&summary.medications),
        ),
        (
            label(lang, "Vaccinations", "حفاظتی ٹیکے", "टीकाकरण"),
            lines(&doses(&summary.immunizations, lang)),
        ),
        (
            label(
                lang,
                "Latest results",
                "تازہ ترین ٹیسٹ نتائج",
                "नवीनतम जाँच परिणाम",
            ),
            measured(&summary.results),
        ),
        (
            label(
                lang,
                "Latest vital signs",
                "تازہ ترین اہم علامات",
                "नवीनतम महत्वपूर्ण संकेत",
            ),
            measured(&summary.vitals),
        ),
    ];
    let total: usize = sections.iter().map(|(_, lines)| lines.len()).sum();
    let mut printed = 0;
    // On the last page allowed, a section or entry needs room for itself and
    // the line saying what did not fit.
    let fits = |sheet: &Sheet| sheet.page_count() < MAX_PAGES || sheet.room() > 3.0 * Style::BODY.leading();
    'sections: for (title, lines) in &sections {
        if !fits(&sheet) {
            break;
        }
        heading(&mut sheet, title);
        if lines.is_empty() {
            entry(&mut sheet, None, &none_recorded(lang), Style::BODY.colored(GREY));
        }
        for line in lines {
            if !fits(&sheet) {
                break 'sections;
            }
            entry(&mut sheet, line.date.as_deref(), &line.text, line.style);
            printed += 1;
        }
    }
    if printed < total {
        let more = total - printed;
        let text = match lang {
            Lang::En => format!("{more} more entries are in the records the QR code opens."),
            Lang::Ur => format!("مزید {more} اندراجات QR کوڈ والے ریکارڈ میں ہیں۔"),
            Lang::Hi => format!("{more} और प्रविष्टियाँ QR कोड वाले रिकॉर्ड में हैं।"),
        };
        sheet.y += 6.0;
        sheet.paragraph(MARGIN, PAGE_WIDTH - 2.0 * MARGIN, &text, Style::BODY.bold());
    }
    let footer = format!(
        "Amanat · {} {today} · {} {}",
        lang.pick("printed", "طباعت", "मुद्रित"),
        summary.records,
        lang.pick("records", "ریکارڈ", "रिकॉर्ड")
    );
    sheet.render(&footer, &format!("{title}: {}", profile.name), lang.code())
}

/// The emergency card: who, blood group, allergies, conditions, medicines
/// and the people to call, in large type, and the QR code of the emergency
/// share (every opening logged at the relay).
pub fn emergency_pdf(fonts: &Fonts, paper: &Paper, facts: &Facts) -> Result<Printout, PrintError> {
    let (lang, profile, today) = (paper.lang, paper.profile, paper.today);
    let qr = Qr::new(paper.link).map_err(|_| PrintError::Qr)?;
    let mut sheet = Sheet::new(fonts, lang.rtl());
    let title = label(
        lang,
        "EMERGENCY HEALTH CARD",
        "ہنگامی طبی کارڈ",
        "आपातकालीन स्वास्थ्य कार्ड",
    );
    head(&mut sheet, paper, &title, &qr, true);
    let big = Style::BODY.sized(12.0);
    heading(&mut sheet, &label(lang, "Blood group", "بلڈ گروپ", "रक्त समूह"));
    let blood = facts
        .blood_group
        .clone()
        .unwrap_or_else(|| label(lang, "not recorded", "درج نہیں", "दर्ज नहीं"));
    let full = PAGE_WIDTH - 2.0 * MARGIN;
    sheet.paragraph(MARGIN, full, &blood, big.bold().sized(16.0));
    let lists = [
        (label(lang, "Allergies", "الرجی", "एलर्जी"), &facts.allergies, true),
        (
            label(lang, "Conditions", "بیماریاں", "बीमारियाँ"),
            &facts.conditions,
            false,
        ),
        (
            label(lang, "Medicines", "ادویات", "दवाइयाँ"),
            &facts.medications,
            false,
        ),
        (
            label(lang, "Call", "رابطہ کریں", "संपर्क करें"),
            &facts.contacts,
            false,
        ),
    ];
    for (title, list, alarm) in lists {
        heading(&mut sheet, &title);
        if list.is_empty() {
            sheet.paragraph(MARGIN, full, &none_recorded(lang), big.colored(GREY));
        }
        for item in list {
            let style = if alarm { big.bold().colored(RED) } else { big };
            sheet.paragraph(MARGIN, full, item, style);
        }
    }
    let footer = format!(
        "Amanat · {} {today} · {}",
        lang.pick("printed", "طباعت", "मुद्रित"),
        lang.pick(
            "every opening of the QR code is logged",
            "QR کوڈ کا ہر استعمال درج ہوتا ہے",
            "QR कोड का हर उपयोग दर्ज होता है"
        )
    );
    sheet.render(&footer, &format!("{title}: {}", profile.name), lang.code())
}
