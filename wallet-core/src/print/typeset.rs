//! Lines of text on A4 pages: Noto fonts found on the system, each line
//! shaped by rustybuzz (Arabic letters joined, Devanagari conjuncts formed)
//! and ordered by the Unicode bidirectional algorithm, so an Urdu line runs
//! right to left with English names and numbers inside it the right way round.
//!
//! Layout and drawing are apart: a [`Sheet`] places text, boxes and QR codes
//! on pages (measuring shaped text), then [`Sheet::render`] writes the PDF.
//! The PDF keeps each glyph's text (ToUnicode), so the words can be searched,
//! copied and read aloud.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use unicode_bidi::BidiInfo;

use super::PrintError;
use crate::qr::Qr;

/// A4, in points.
pub const PAGE_WIDTH: f32 = 595.28;
/// A4, in points.
pub const PAGE_HEIGHT: f32 = 841.89;
/// Margin on every side (15 mm).
pub const MARGIN: f32 = 42.5;

/// Where fonts are looked for unless `AMANAT_FONT_DIR` says: Debian's and
/// Ubuntu's `fonts-noto-core`, and the usual font folders of other systems.
const FONT_DIRS: &[&str] = &[
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/noto",
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/google-noto",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:\\Windows\\Fonts",
];

/// The writing systems Amanat prints, each in its own Noto face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Arabic,
    Devanagari,
}

impl Script {
    /// The script a character must be drawn in; `None` for spaces and
    /// punctuation, which go with the text around them.
    fn of(c: char) -> Option<Script> {
        match c as u32 {
            0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                Some(Script::Arabic)
            }
            0x0900..=0x097F | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF => Some(Script::Devanagari),
            _ if c.is_alphanumeric() => Some(Script::Latin),
            _ => None,
        }
    }

    /// The font file, regular or bold. Urdu is set in Naskh: a Nastaliq
    /// line needs far more height and its shaping is what printers get wrong.
    fn file(self, bold: bool) -> &'static str {
        match (self, bold) {
            (Script::Latin, false) => "NotoSans-Regular.ttf",
            (Script::Latin, true) => "NotoSans-Bold.ttf",
            (Script::Arabic, false) => "NotoNaskhArabic-Regular.ttf",
            (Script::Arabic, true) => "NotoNaskhArabic-Bold.ttf",
            (Script::Devanagari, false) => "NotoSansDevanagari-Regular.ttf",
            (Script::Devanagari, true) => "NotoSansDevanagari-Bold.ttf",
        }
    }
}

/// One font: the bytes for shaping and the same bytes for the PDF.
#[derive(Clone)]
struct Face {
    data: Arc<Vec<u8>>,
    font: Font,
}

/// The six faces a printout may need (three scripts, regular and bold).
pub struct Fonts {
    faces: Vec<(Script, bool, Face)>,
}

impl Fonts {
    /// Finds and reads the Noto fonts: in the folders `AMANAT_FONT_DIR`
    /// names (separated as in `PATH`) when it is set, else in the system's. Every face is needed: a summary holds whatever
    /// script the records were written in.
    pub fn load() -> Result<Fonts, PrintError> {
        let dirs: Vec<PathBuf> = match std::env::var_os("AMANAT_FONT_DIR") {
            Some(d) => std::env::split_paths(&d).collect(),
            None => FONT_DIRS.iter().map(PathBuf::from).collect(),
        };
        let mut faces = Vec::new();
        for script in [Script::Latin, Script::Arabic, Script::Devanagari] {
            for bold in [false, true] {
                let file = script.file(bold);
                let path = dirs
                    .iter()
                    .map(|d| d.join(file))
                    .find(|p| p.is_file())
                    .ok_or_else(|| PrintError::FontMissing {
                        file,
                        searched: dirs.iter().map(|d| d.display().to_string()).collect(),
                    })?;
                faces.push((script, bold, read_face(&path, file)?));
            }
        }
        Ok(Fonts { faces })
    }

    fn face(&self, script: Script, bold: bool) -> &Face {
        let (_, _, face) = self
            .faces
            .iter()
            .find(|(s, b, _)| *s == script && *b == bold)
            .expect("Fonts::load reads every script in both weights");
        face
    }
}

fn read_face(path: &Path, file: &'static str) -> Result<Face, PrintError> {
    let bytes = std::fs::read(path).map_err(|_| PrintError::FontUnreadable { file })?;
    let data = Arc::new(bytes);
    rustybuzz::Face::from_slice(&data, 0).ok_or(PrintError::FontUnreadable { file })?;
    let font = Font::new(data.clone().into(), 0).ok_or(PrintError::FontUnreadable { file })?;
    Ok(Face { data, font })
}

/// A stretch of one line in one font and one direction, shaped.
#[derive(Clone)]
struct Run {
    text: String,
    face: Face,
    glyphs: Vec<KrillaGlyph>,
    /// Width at a size of 1 (em).
    width: f32,
}

/// Text style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// Size in points.
    pub size: f32,
    /// Bold.
    pub bold: bool,
    /// Colour (red, green, blue).
    pub color: (u8, u8, u8),
}

impl Style {
    /// Body text.
    pub const BODY: Style = Style {
        size: 10.0,
        bold: false,
        color: (20, 20, 20),
    };

    /// The same, bold.
    pub fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    /// The same, at `size`.
    pub fn sized(self, size: f32) -> Style {
        Style { size, ..self }
    }

    /// The same, in a colour.
    pub fn colored(self, color: (u8, u8, u8)) -> Style {
        Style { color, ..self }
    }

    /// Distance from one baseline to the next.
    pub fn leading(self) -> f32 {
        self.size * 1.45
    }
}

/// What goes on a page.
enum Mark {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        runs: Vec<Run>,
    },
    Box {
        rect: Rect,
        color: (u8, u8, u8),
    },
}

/// Pages being laid out: a cursor moves down, text is placed in columns
/// given as if the page ran left to right and mirrored for Urdu.
pub struct Sheet<'f> {
    fonts: &'f Fonts,
    /// The faces parsed for shaping once, not for every line measured.
    shapers: Vec<(Script, bool, rustybuzz::Face<'f>)>,
    rtl: bool,
    pages: Vec<Vec<Mark>>,
    /// Top of the next line, from the top of the page.
    pub y: f32,
    /// Lowest the content may go (a footer sits below it).
    bottom: f32,
}

impl<'f> Sheet<'f> {
    /// An empty first page; `rtl` mirrors every column (Urdu).
    pub fn new(fonts: &'f Fonts, rtl: bool) -> Sheet<'f> {
        let shapers = fonts
            .faces
            .iter()
            .filter_map(|(s, b, face)| Some((*s, *b, rustybuzz::Face::from_slice(&face.data, 0)?)))
            .collect();
        Sheet {
            fonts,
            shapers,
            rtl,
            pages: vec![Vec::new()],
            y: MARGIN,
            bottom: PAGE_HEIGHT - MARGIN - 18.0,
        }
    }

    /// Pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Room left on this page, in points.
    pub fn room(&self) -> f32 {
        self.bottom - self.y
    }

    /// Starts a new page.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// The width `text` takes in `style`.
    pub fn width(&self, text: &str, style: Style) -> f32 {
        em_width(&self.shape_line(text, style.bold)) * style.size
    }

    /// `text` broken at spaces into lines no wider than `width`; a word
    /// wider than a line on its own is broken between characters.
    pub fn wrap(&self, text: &str, style: Style, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, style) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if self.width(&line, style) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Places one line with its left edge at `x` (or its right edge at
    /// `x + width` when the sheet is right to left) and its top at `top`.
    pub fn text_at(&mut self, x: f32, width: f32, top: f32, text: &str, style: Style) {
        let mark = self.line(x, width, top, text, style);
        self.current().push(mark);
    }

    /// One line of text placed as [`Sheet::text_at`] says, on no page yet.
    fn line(&self, x: f32, width: f32, top: f32, text: &str, style: Style) -> Mark {
        let runs = self.shape_line(text, style.bold);
        let used = em_width(&runs) * style.size;
        let left = if self.rtl {
            PAGE_WIDTH - x - width + (width - used).max(0.0)
        } else {
            x
        };
        Mark::Text {
            x: left,
            baseline: top + style.size * BASELINE,
            style,
            runs,
        }
    }

    /// Places `text` wrapped to the column at `x`, `width` from the cursor
    /// down, starting a new page when the column is full.
    pub fn paragraph(&mut self, x: f32, width: f32, text: &str, style: Style) {
        for line in self.wrap(text, style, width) {
            if self.room() < style.leading() {
                self.new_page();
            }
            let top = self.y;
            self.text_at(x, width, top, &line, style);
            self.y += style.leading();
        }
    }

    /// A filled box at `x`, `width` (mirrored for right to left), `top`, `height`.
    pub fn fill(&mut self, x: f32, width: f32, top: f32, height: f32, color: (u8, u8, u8)) {
        let left = if self.rtl { PAGE_WIDTH - x - width } else { x };
        if let Some(rect) = Rect::from_xywh(left, top, width, height) {
            self.current().push(Mark::Box { rect, color });
        }
    }

    /// A QR code, `size` points square with its quiet zone, at `x` (mirrored
    /// for right to left) and `top`: one box per dark module.
    pub fn qr(&mut self, qr: &Qr, x: f32, top: f32, size: f32) {
        let n = qr.width();
        let module = size / (n + 8) as f32;
        let left = if self.rtl { PAGE_WIDTH - x - size } else { x };
        for row in 0..n {
            // A run of dark modules in a row is one box: a smaller file and
            // no hairline gaps between modules in PDF readers.
            let mut col = 0;
            while col < n {
                if !qr.dark(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && qr.dark(col, row) {
                    col += 1;
                }
                let (bx, by) = (
                    left + (start + 4) as f32 * module,
                    top + (row + 4) as f32 * module,
                );
                if let Some(rect) = Rect::from_xywh(bx, by, (col - start) as f32 * module, module) {
                    self.current().push(Mark::Box {
                        rect,
                        color: (0, 0, 0),
                    });
                }
            }
        }
    }

    fn current(&mut self) -> &mut Vec<Mark> {
        self.pages.last_mut().expect("a sheet has a page from the start")
    }

    /// Shapes one line: bidi runs in visual order, each split by script and
    /// shaped in its direction, so the runs can be drawn left to right.
    fn shape_line(&self, text: &str, bold: bool) -> Vec<Run> {
        // Text from outside (record titles, names, contacts) cannot reorder
        // the page: bidi overrides and control characters print as escapes,
        // as on a terminal.
        let text = &*crate::terminal::safe(text);
        // Each line takes its direction from its first letter, as a browser's
        // dir="auto" does: an English record title on an Urdu page reads left
        // to right (its "7 %" stays whole), an Urdu heading right to left.
        let info = BidiInfo::new(text, None);
        // Spaces and punctuation stay in the face around them when it has
        // them (the Arabic comma does not exist in Noto Sans); otherwise Latin.
        let covers = |script: Script, c: char| {
            script == Script::Latin
                || self
                    .shaper(script, bold)
                    .is_some_and(|f| f.glyph_index(c).is_some())
        };
        let mut runs = Vec::new();
        for para in &info.paragraphs {
            let (levels, visual) = info.visual_runs(para, para.range.clone());
            for range in visual {
                let rtl = levels[range.start].is_rtl();
                let mut pieces = by_script(&text[range], covers);
                if rtl {
                    pieces.reverse();
                }
                for (script, piece) in pieces {
                    runs.push(self.shape(piece, script, bold, rtl));
                }
            }
        }
        runs
    }

    fn shaper(&self, script: Script, bold: bool) -> Option<&rustybuzz::Face<'f>> {
        self.shapers
            .iter()
            .find(|(s, b, _)| *s == script && *b == bold)
            .map(|(_, _, f)| f)
    }

    fn shape(&self, text: &str, script: Script, bold: bool, rtl: bool) -> Run {
        let mut width = 0.0;
        let mut glyphs = Vec::new();
        if let Some(rb) = self.shaper(script, bold) {
            let mut buffer = rustybuzz::UnicodeBuffer::new();
            buffer.push_str(text);
            buffer.guess_segment_properties();
            buffer.set_direction(if rtl {
                rustybuzz::Direction::RightToLeft
            } else {
                rustybuzz::Direction::LeftToRight
            });
            let shaped = rustybuzz::shape(rb, &[], buffer);
            let em = rb.units_per_em() as f32;
            // A glyph stands for its cluster: from its start to the next
            // cluster's start in the text (ligatures, conjuncts, marks).
            let mut starts: Vec<usize> = shaped.glyph_infos().iter().map(|i| i.cluster as usize).collect();
            starts.sort_unstable();
            starts.dedup();
            for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
                let start = info.cluster as usize;
                let end = starts
                    .get(starts.partition_point(|s| *s <= start))
                    .copied()
                    .unwrap_or(text.len());
                width += pos.x_advance as f32 / em;
                glyphs.push(KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end,
                    None,
                ));
            }
        }
        Run {
            text: text.to_string(),
            face: self.fonts.face(script, bold).clone(),
            glyphs,
            width,
        }
    }

    /// The PDF: every page, with "page n of N" and `footer` at the foot.
    pub fn render(mut self, footer: &str, title: &str, lang: &str) -> Result<super::Printout, PrintError> {
        let total = self.pages.len();
        for n in 0..total {
            let text = format!("{footer} · {}/{total}", n + 1);
            let style = Style::BODY.sized(8.0).colored((110, 110, 110));
            let top = PAGE_HEIGHT - MARGIN + 4.0 - style.size * BASELINE;
            let mark = self.line(MARGIN, PAGE_WIDTH - 2.0 * MARGIN, top, &text, style);
            self.pages[n].push(mark);
        }
        let mut doc = krilla::Document::new();
        doc.set_metadata(
            Metadata::new()
                .title(title.to_string())
                .language(lang.to_string())
                .creator("Amanat".to_string()),
        );
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or(PrintError::Pdf)?;
        for marks in &self.pages {
            let mut page = doc.start_page_with(settings.clone());
            let mut surface = page.surface();
            for mark in marks {
                match mark {
                    Mark::Box { rect, color } => {
                        surface.set_fill(Some(fill(*color)));
                        let mut path = PathBuilder::new();
                        path.push_rect(*rect);
                        if let Some(path) = path.finish() {
                            surface.draw_path(&path);
                        }
                    }
                    Mark::Text {
                        x,
                        baseline,
                        style,
                        runs,
                    } => {
                        surface.set_fill(Some(fill(style.color)));
                        let mut pen = *x;
                        for run in runs {
                            surface.draw_glyphs(
                                Point::from_xy(pen, *baseline),
                                &run.glyphs,
                                run.face.font.clone(),
                                &run.text,
                                style.size,
                                false,
                            );
                            pen += run.width * style.size;
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        let pdf = doc.finish().map_err(|_| PrintError::Pdf)?;
        Ok(super::Printout { pdf, pages: total })
    }
}

/// Where a line's baseline sits below its top, in sizes of its text.
const BASELINE: f32 = 1.1;

/// The width of shaped runs at a size of 1.
fn em_width(runs: &[Run]) -> f32 {
    runs.iter().map(|r| r.width).sum()
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// `text` cut where the script changes; spaces and punctuation stay with
/// the script before them (or after, at the start) if its face `covers`
/// them, else go to Latin.
fn by_script(text: &str, covers: impl Fn(Script, char) -> bool) -> Vec<(Script, &str)> {
    let first = text.chars().find_map(Script::of).unwrap_or(Script::Latin);
    let mut pieces = Vec::new();
    let (mut script, mut start) = (first, 0);
    for (i, c) in text.char_indices() {
        let wanted = Script::of(c).or_else(|| (!covers(script, c)).then_some(Script::Latin));
        match wanted {
            Some(s) if s != script => {
                if i > start {
                    pieces.push((script, &text[start..i]));
                }
                script = s;
                start = i;
            }
            _ => {}
        }
    }
    if start < text.len() {
        pieces.push((script, &text[start..]));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_where_they_change_and_punctuation_stays() {
        let all = |_, _| true;
        assert_eq!(
            by_script("عائشہ خان (Ayesha) आयशा", all),
            vec![
                (Script::Arabic, "عائشہ خان ("),
                (Script::Latin, "Ayesha) "),
                (Script::Devanagari, "आयशा"),
            ]
        );
        assert_eq!(by_script("  12", all), vec![(Script::Latin, "  12")]);
        assert!(by_script("", all).is_empty());
        // A dot the Arabic face lacks is drawn in Latin, the space after it too.
        let no_dot = |s, c| s == Script::Latin || c != '·';
        assert_eq!(
            by_script("الرجی · Allergies", no_dot),
            vec![(Script::Arabic, "الرجی "), (Script::Latin, "· Allergies")]
        );
    }

    /// The glyphs one line is drawn with, left to right.
    fn glyphs(sheet: &Sheet, text: &str) -> Vec<u32> {
        sheet
            .shape_line(text, false)
            .iter()
            .flat_map(|r| r.glyphs.iter().map(|g| g.glyph_id.to_u32()))
            .collect()
    }

    /// Shaping is what makes Urdu and Hindi readable; these fail if the
    /// text were drawn a character per glyph in reading order. They need
    /// the Noto fonts (`fonts-noto-core`, installed by the test command).
    #[test]
    fn urdu_letters_join_and_run_right_to_left_and_hindi_vowel_signs_move() {
        let fonts = Fonts::load().expect("the Noto fonts (apt install fonts-noto-core)");
        let sheet = Sheet::new(&fonts, true);
        // ب alone, and at the start, middle and end of a word: four shapes.
        let alone = glyphs(&sheet, "ب");
        let word = glyphs(&sheet, "ببب");
        assert_eq!(word.len(), 3);
        assert!(
            !word.contains(&alone[0]),
            "joined forms, not the isolated one: {word:?} vs {alone:?}"
        );
        let (end, middle, start) = (word[0], word[1], word[2]);
        assert!(start != middle && middle != end && start != end, "{word:?}");
        // Right to left: the word's first letter is drawn rightmost.
        assert_eq!(
            glyphs(&sheet, "با")[1],
            start,
            "the initial ب is drawn on the right of ا"
        );
        // Devanagari: the vowel sign ि is written after क but drawn before it.
        let ka = glyphs(&sheet, "क")[0];
        let ki = glyphs(&sheet, "कि");
        assert_eq!(ki.len(), 2);
        assert_eq!(ki[1], ka, "क is drawn second, after its vowel sign: {ki:?}");
        // A conjunct: क्ष is one glyph, not क, virama, ष.
        assert!(glyphs(&sheet, "क्ष").len() < 3);
    }
}
