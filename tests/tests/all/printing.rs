//! Paper: the summary and the emergency card as PDF, checked with poppler
//! (`pdfinfo`, `pdftotext`, `pdftoppm`), tools nobody here wrote, and by
//! reading the QR code off the rendered page as a phone would.

use std::path::Path;
use std::process::Command;

use amanat_tests::{TestRelay, TestVault, amanat_bare, read_qr};

/// Runs a poppler tool; its standard output.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs (poppler-utils, installed by scripts/test): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The PDF's text (without the bidi controls pdftotext puts around right
/// to left lines), its page count and page size as pdfinfo reports them.
pub(crate) fn read_pdf(pdf: &Path) -> (String, usize, String) {
    let path = pdf.to_str().unwrap();
    let info = poppler("pdfinfo", &[path]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    };
    let pages = field("Pages:").parse().unwrap();
    let text = poppler("pdftotext", &[path, "-"])
        .chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    (text, pages, field("Page size:"))
}

/// The QR code on the PDF's first page, rendered at 150 dpi (a phone photo
/// of the paper has about as many pixels).
pub(crate) fn qr_on_page(pdf: &Path) -> String {
    let prefix = pdf.with_extension("");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    read_qr(&std::fs::read(prefix.with_extension("png")).unwrap())
}

#[test]
fn a_printed_summary_reads_in_urdu_and_hindi_fits_a4_and_its_qr_code_verifies() {
    let v = TestVault::empty();
    v.run(&[
        "init",
        "--name",
        "عائشہ صدیقی",
        "--handle",
        "ammi",
        "--cnic",
        "35202-1234567-2",
        "--birth-date",
        "1968-04-12",
        "--gender",
        "female",
    ])
    .ok();
    v.run(&[
        "profile",
        "add",
        "--name",
        "आयशा सिद्दीक़ी",
        "--handle",
        "aysha",
        "--abha-number",
        "91-1234-5678-9012",
        "--relationship",
        "parent",
    ])
    .ok();
    let allergy = v.scratch("allergy.json");
    std::fs::write(
        &allergy,
        r#"{"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/p1"},
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"text": "Penicillin"}, "recordedDate": "2010-09-16"}"#,
    )
    .unwrap();
    // A title that would reverse what follows it if the page obeyed it.
    let spoof = v.scratch("spoof.json");
    std::fs::write(
        &spoof,
        r#"{"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"text": "Asthma \u202eflipped"}, "onsetDateTime": "2001-01-01"}"#,
    )
    .unwrap();
    let hba1c = v.scratch("hba1c.json");
    std::fs::write(
        &hba1c,
        r#"{"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}], "text": "HbA1c"},
            "effectiveDateTime": "2026-10-01", "valueQuantity": {"value": 7.9, "unit": "%"},
            "referenceRange": [{"high": {"value": 5.6, "unit": "%"}}]}"#,
    )
    .unwrap();
    for profile in ["ammi", "aysha"] {
        v.run(&[
            "--profile",
            profile,
            "import",
            allergy.to_str().unwrap(),
            hba1c.to_str().unwrap(),
            spoof.to_str().unwrap(),
        ])
        .ok();
        v.run(&["--profile", profile, "add", "bp", "152/96", "--at", "2026-11-20"])
            .ok();
        v.run(&["--profile", profile, "add", "glucose", "142", "--fasting"])
            .ok();
    }

    for (profile, lang, name, label) in [
        ("ammi", "ur", "عائشہ صدیقی", "الرجی"),
        ("aysha", "hi", "आयशा सिद्दीक़ी", "एलर्जी"),
        ("ammi", "en", "عائشہ صدیقی", "Allergies"),
    ] {
        let pdf = v.scratch(&format!("summary-{profile}-{lang}.pdf"));
        let made = v
            .run(&[
                "--profile",
                profile,
                "summary",
                "--pdf",
                pdf.to_str().unwrap(),
                "--lang",
                lang,
                "--json",
            ])
            .json();
        let (text, pages, size) = read_pdf(&pdf);
        assert!((1..=2).contains(&pages), "{pages} pages");
        assert_eq!(made["pages"], pages as u64);
        assert!(size.contains("(A4)"), "{size}");
        // The name and the labels are text, in their own script, shaped as
        // written: pdftotext gives back the very characters.
        for words in [
            name,
            label,
            "Allergies",
            "Penicillin",
            "Blood pressure: 152/96 mmHg",
            // The override is printed as what it is, and reorders nothing.
            "Asthma \\u{202e}flipped",
        ] {
            assert!(text.contains(words), "{lang}: {words:?} missing from:\n{text}");
        }
        let high = match lang {
            "ur" => "زیادہ",
            "hi" => "अधिक",
            _ => "high",
        };
        // pdftotext reorders a mixed line (its brackets turn), so the flag
        // is looked for on the value's line.
        let line = text
            .lines()
            .find(|l| l.contains("HbA1c: 7.9 %"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains(high),
            "{lang}: the HbA1c above its range is flagged: {line}"
        );
        if profile == "aysha" {
            assert!(text.contains("ABHA: 91-1234-5678-9012"), "{text}");
        } else {
            assert!(text.contains("CNIC: 35202-1234567-2"), "{text}");
        }

        // The QR code on the paper opens the same records, verified, with
        // no wallet: the doctor's phone.
        let link = qr_on_page(&pdf);
        assert_eq!(link, made["link"].as_str().unwrap());
        let opened = amanat_bare(&["receive", "--json", &link], &[]).json();
        assert_eq!(opened["grant"]["purpose"], "CAREMGT", "{opened}");
        assert_eq!(
            opened["records"].as_array().unwrap().len() as u64,
            made["records"]
        );
        assert!(opened["records"].to_string().contains("Penicillin"), "{opened}");
    }
}

#[test]
fn a_long_summary_is_cut_at_two_pages_and_says_how_much_more_the_qr_code_holds() {
    let relay = TestRelay::start(0);
    let v = TestVault::new();
    let conditions = v.scratch("conditions.json");
    // Names that compress as poorly as real ones (a fixed pseudo-random sequence).
    let mut seed: u64 = 7;
    let mut word = || {
        (0..8)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b'a' + (seed >> 59) as u8 % 26)
            })
            .collect::<String>()
    };
    let entries: Vec<String> = (0..120)
        .map(|i| {
            let name: Vec<String> = (0..10).map(|_| word()).collect();
            format!(
                r#"{{"resource": {{"resourceType": "Condition", "subject": {{"reference": "Patient/p1"}},
                    "clinicalStatus": {{"coding": [{{"code": "active"}}]}},
                    "code": {{"text": "{}"}}, "onsetDateTime": "2020-01-{:02}"}}}}"#,
                name.join(" "),
                i % 28 + 1
            )
        })
        .collect();
    std::fs::write(
        &conditions,
        format!(
            r#"{{"resourceType": "Bundle", "type": "collection", "entry": [{}]}}"#,
            entries.join(",")
        ),
    )
    .unwrap();
    v.run(&["import", conditions.to_str().unwrap()]).ok();
    let pdf = v.scratch("long.pdf");
    // Inside a QR code they do not fit: said, and nothing made.
    v.run(&["summary", "--pdf", pdf.to_str().unwrap()])
        .fails_saying(1, "120 records are too many for one QR code");
    assert!(!pdf.exists());
    assert_eq!(v.run(&["grants", "--json"]).json().as_array().unwrap().len(), 0);
    let made = v
        .run(&[
            "summary",
            "--pdf",
            pdf.to_str().unwrap(),
            "--relay",
            &relay.url,
            "--json",
        ])
        .json();
    let (text, pages, _) = read_pdf(&pdf);
    assert_eq!(pages, 2);
    assert!(
        text.contains("more entries are in the records the QR code opens"),
        "{text}"
    );
    // A relay share: a small QR code that still opens all of them.
    let link = qr_on_page(&pdf);
    let opened = amanat_bare(&["receive", "--json", &link], &[]).json();
    assert_eq!(opened["records"].as_array().unwrap().len(), 120);
    assert_eq!(made["records"], 120);
}

#[test]
fn without_the_fonts_a_printout_says_what_to_install_and_shares_nothing() {
    let v = TestVault::new();
    v.run(&["add", "weight", "70"]).ok();
    let empty = v.scratch("no-fonts");
    std::fs::create_dir_all(&empty).unwrap();
    let pdf = v.scratch("summary.pdf");
    v.run_env(
        &["summary", "--pdf", pdf.to_str().unwrap()],
        &[("AMANAT_FONT_DIR", empty.to_str().unwrap())],
    )
    .fails_saying(1, "the font NotoSans-Regular.ttf is not installed")
    .contains("apt install fonts-noto-core")
    .then_some(())
    .expect("says what to install");
    assert!(!pdf.exists(), "no PDF");
    // A file by the font's name that is not a font is named as such.
    std::fs::write(empty.join("NotoSans-Regular.ttf"), b"<html>not a font</html>").unwrap();
    v.run_env(
        &["summary", "--pdf", pdf.to_str().unwrap()],
        &[("AMANAT_FONT_DIR", empty.to_str().unwrap())],
    )
    .fails_saying(1, "the font NotoSans-Regular.ttf could not be read");
    assert!(!pdf.exists(), "no PDF");
    assert_eq!(
        v.run(&["grants", "--json"]).json().as_array().unwrap().len(),
        0,
        "no share was made for a PDF that was not written"
    );
}
