//! The doctor's view: paste a link, upload a photo of the QR, or use the camera.
//! Verification and decryption run here, in the browser, with `wallet-core`
//! compiled to WebAssembly: the decrypted records never pass through any server.

use std::rc::Rc;

use leptos::prelude::*;
use wallet_core::share::grant::{AccessMode, Grantee};
use wallet_core::share::link::{Location, ShareLink};
use wallet_core::share::{self, Received};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::i18n::T;
use crate::model::human_time;
use crate::views::ctx;
use crate::views::outline::DocumentOutline;

/// A share being opened: checked as far as it can be before its records are
/// here, and a relay share's records already asked for.
struct Opening {
    link: ShareLink,
    now: i64,
    passcode: Option<String>,
    records: Records,
}

/// Where an [`Opening`]'s records are.
enum Records {
    /// In the link.
    Here(Vec<u8>),
    /// On their way from the relay at this URL.
    Asked(String, JsFuture),
}

impl Opening {
    /// Checks a share link and, for a relay share, asks the relay for its
    /// records at once: called while the page is still being drawn, the
    /// request is on its way during that work rather than after it (on a
    /// phone, about a tenth of a second of a cold open).
    fn start(text: &str, passcode: Option<String>) -> Result<Opening, String> {
        let link = ShareLink::decode(text).map_err(|e| e.to_string())?;
        let now = (js_sys::Date::now() / 1000.0) as i64;
        share::precheck(&link, now, None).map_err(|e| e.to_string())?;
        let passcode = passcode.filter(|p| !p.is_empty());
        if link.passcode && passcode.is_none() {
            return Err(share::ShareError::NeedsPasscode.to_string());
        }
        let records = match &link.location {
            Location::Inline(bytes) => Records::Here(bytes.clone()),
            Location::Relay(url) => {
                if !link.detached {
                    share::verify_link(&link, now, None).map_err(|e| e.to_string())?;
                }
                Records::Asked(url.clone(), api::ask_relay(url)?)
            }
        };
        Ok(Opening {
            link,
            now,
            passcode,
            records,
        })
    }

    /// Verifies the grant over the records and decrypts them.
    async fn finish(self) -> Result<Received, String> {
        let ciphertext = match self.records {
            Records::Here(bytes) => bytes,
            Records::Asked(url, asked) => api::relay_answer(&url, asked).await?,
        };
        let pass = self.passcode.map(secrecy::SecretString::from);
        share::open(&self.link, &ciphertext, self.now, None, pass.as_ref()).map_err(|e| e.to_string())
    }
}

/// RGBA pixels to the QR reader.
fn decode_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<String, String> {
    wallet_core::qr::read_greyscale(width as usize, height as usize, |x, y| {
        let i = (y * width as usize + x) * 4;
        let (r, g, b) = (u32::from(rgba[i]), u32::from(rgba[i + 1]), u32::from(rgba[i + 2]));
        ((r * 299 + g * 587 + b * 114) / 1000) as u8
    })
    .map_err(|e| e.to_string())
}

fn canvas(
    width: u32,
    height: u32,
) -> Result<(web_sys::HtmlCanvasElement, web_sys::CanvasRenderingContext2d), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|e| format!("{e:?}"))?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|e| format!("{e:?}"))?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|e| format!("{e:?}"))?;
    Ok((canvas, context))
}

/// Reads the QR code in an image file.
async fn read_image(file: web_sys::File) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window
        .create_image_bitmap_with_blob(&file)
        .map_err(|e| format!("{e:?}"))?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| "this file is not an image the browser can read".to_string())?
        .dyn_into()
        .map_err(|e| format!("{e:?}"))?;
    let (w, h) = (bitmap.width(), bitmap.height());
    let (_canvas, context) = canvas(w, h)?;
    context
        .draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .map_err(|e| format!("{e:?}"))?;
    let data = context
        .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
        .map_err(|e| format!("{e:?}"))?;
    decode_rgba(w, h, &data.data())
}

/// What a [`Scanner`] does with a code it read, or with why it read none.
pub type Found = Rc<dyn Fn(Result<String, String>)>;

/// Whether a link's records are locked with a passcode (`false` for text
/// that is not a link: opening it then says what is wrong).
fn needs_passcode(text: &str) -> bool {
    ShareLink::decode(text).is_ok_and(|l| l.passcode)
}

/// The doctor's view: the verdict on a share (given in the address, pasted,
/// or read by `scanner`), over the records.
#[component]
pub fn Receive<S, V>(
    /// A link from the address, if any.
    link: Option<String>,
    /// More ways in, given what to do with a link read (or why none was):
    /// the wallet's photo and camera [`Scanner`]; the phone viewer has none
    /// (the phone's own camera opened it), which keeps the QR reader out of
    /// its download.
    scanner: S,
) -> impl IntoView
where
    S: FnOnce(Found) -> V,
    V: IntoView + 'static,
{
    let c = ctx();
    let text = RwSignal::new(link.clone().unwrap_or_default());
    let passcode = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<Received, String>>);
    let busy = RwSignal::new(false);
    // Decoded once per change of the text, for the start and for the form.
    let locked = Memo::new(move |_| needs_passcode(&text.get()));
    let verify = move || {
        busy.set(true);
        outcome.set(None);
        let opening = Opening::start(&text.get_untracked(), Some(passcode.get_untracked()));
        leptos::task::spawn_local(async move {
            let r = match opening {
                Ok(opening) => opening.finish().await,
                Err(e) => Err(e),
            };
            busy.set(false);
            outcome.set(Some(r));
        });
    };
    // A locked share waits for its passcode rather than opening to a refusal.
    if link.is_some() && !locked.get_untracked() {
        verify();
    }
    let scanner = scanner(Rc::new(move |read: Result<String, String>| match read {
        Ok(link) => {
            text.set(link);
            verify();
        }
        Err(e) => outcome.set(Some(Err(e))),
    }));
    view! {
        <section class="receive">
            <h1>{move || c.t(T::receive)}</h1>
            {move || outcome.get().map(|r| view! { <Verdict outcome=r/> })}
            <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); verify(); }>
                {move || locked.get().then(|| view! {
                    <p class="banner" role="status" data-testid="needs-passcode">{c.t(T::needs_passcode)}</p>
                    <label>{c.t(T::passcode)}
                        <input type="password" autocomplete="off" data-testid="receive-passcode" on:input=move |ev| passcode.set(event_target_value(&ev))/>
                    </label>
                })}
                <label>{move || c.t(T::paste_link)}
                    <textarea rows="3" data-testid="receive-link" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" data-testid="receive-open" disabled=move || busy.get()>{move || c.t(T::open_share)}</button>
            </form>
            {scanner}
        </section>
    }
}

/// The wallet's doctor's view: [`Receive`] with the photo and camera [`Scanner`].
#[component]
pub fn ReceiveAndScan(
    /// A link from the address, if any.
    link: Option<String>,
) -> impl IntoView {
    view! { <Receive link scanner=|found| view! { <Scanner found/> }/> }
}

/// Reading a QR code from a photo or the camera, in the page.
#[component]
pub fn Scanner(
    /// Gets the text of a code read, or why none could be.
    found: Found,
) -> impl IntoView {
    let c = ctx();
    let camera_on = RwSignal::new(false);
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let (from_file, from_camera, from_frames) = (found.clone(), found.clone(), found);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        let found = from_file.clone();
        leptos::task::spawn_local(async move {
            found(read_image(file).await);
        });
    };
    let start_camera = move |_| {
        let Some(video) = video_ref.get() else { return };
        camera_on.set(true);
        let failed = from_camera.clone();
        leptos::task::spawn_local(async move {
            let result: Result<(), String> = async {
                let devices = web_sys::window()
                    .ok_or("no window")?
                    .navigator()
                    .media_devices()
                    .map_err(|_| "no camera here")?;
                let constraints = web_sys::MediaStreamConstraints::new();
                let video_opts = js_sys::Object::new();
                let _ = js_sys::Reflect::set(
                    &video_opts,
                    &JsValue::from_str("facingMode"),
                    &JsValue::from_str("environment"),
                );
                constraints.set_video(&video_opts);
                let stream: web_sys::MediaStream = JsFuture::from(
                    devices
                        .get_user_media_with_constraints(&constraints)
                        .map_err(|_| "the camera is not available")?,
                )
                .await
                .map_err(|_| "permission to use the camera was refused")?
                .dyn_into()
                .map_err(|e| format!("{e:?}"))?;
                video.set_src_object(Some(&stream));
                let _ = video.play();
                Ok(())
            }
            .await;
            if let Err(e) = result {
                camera_on.set(false);
                failed(Err(e));
            }
        });
    };
    let scan = set_interval_with_handle(
        move || {
            if !camera_on.get_untracked() {
                return;
            }
            let Some(video) = video_ref.get_untracked() else {
                return;
            };
            let (w, h) = (video.video_width(), video.video_height());
            if w == 0 || h == 0 {
                return;
            }
            let Ok((_c, context)) = canvas(w, h) else { return };
            if context
                .draw_image_with_html_video_element(&video, 0.0, 0.0)
                .is_err()
            {
                return;
            }
            let Ok(data) = context.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)) else {
                return;
            };
            if let Ok(text) = decode_rgba(w, h, &data.data()) {
                camera_on.set(false);
                if let Some(stream) = video
                    .src_object()
                    .and_then(|s| s.dyn_into::<web_sys::MediaStream>().ok())
                {
                    for track in stream.get_tracks().iter() {
                        if let Ok(t) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                            t.stop();
                        }
                    }
                }
                from_frames(Ok(text));
            }
        },
        std::time::Duration::from_millis(300),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = scan {
            h.clear();
        }
    });
    view! {
        <div class="scanner">
            <label>{move || c.t(T::qr_photo)}
                <input type="file" accept="image/*" data-testid="receive-image" on:change=on_file/>
            </label>
            <button type="button" data-testid="camera" on:click=start_camera>{move || c.t(T::camera)}</button>
            <video node_ref=video_ref class:hidden=move || !camera_on.get() playsinline muted></video>
        </div>
    }
}

/// The green verdict (whose records, which wallet, why, until when, for
/// whom) over the records, each readable in a line and whole on a tap; or the
/// red refusal saying why.
#[component]
pub(crate) fn Verdict(outcome: Result<Received, String>) -> impl IntoView {
    let c = ctx();
    let got = match outcome {
        Err(e) => {
            return view! {
                <div class="refused" data-testid="refused" role="alert">
                    <h2>{c.t(T::refused)}</h2>
                    <p>{e}</p>
                </div>
            }
            .into_any();
        }
        Ok(got) => got,
    };
    let g = &got.grant;
    let to = match &g.to {
        Grantee::Bearer => c.t(T::whoever_holds).to_string(),
        Grantee::Provider {
            name, registration, ..
        } => format!("{name} ({registration})"),
    };
    let mode = if g.mode == AccessMode::Store {
        T::may_keep
    } else {
        T::view_only
    };
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let who = g.subject.as_ref().map(|s| s.describe(now)).unwrap_or_default();
    let facts = [
        (T::wallet_id, got.wallet_id.to_string()),
        (
            T::purpose,
            format!("{} ({})", g.purpose.words(), g.purpose.code()),
        ),
        (T::access, c.t(mode).to_string()),
        (T::valid_until_label, human_time(g.exp)),
        (T::shared_with, to),
    ];
    view! {
        <div class="verified" data-testid="verified">
            <p class="verdict">"✔ " {c.t(T::verified)}</p>
            <h2 data-testid="verified-patient">{g.patient.clone()}</h2>
            <p class="who" data-testid="verified-who">{who}</p>
            <dl class="facts">
                {facts.into_iter().map(|(k, v)| view! { <dt>{c.t(k)}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            <p class="muted">{c.count(got.records.len(), T::n_signed_one, T::n_signed)}</p>
            <ul class="received">
                {got.records.iter().map(|r| view! {
                    <li data-testid="received-record">
                        {r.granted.about.clone().map(|about| view! {
                            <p class="origin" data-testid="record-origin">{c.t(T::from_a_file_about)} " " {about}</p>
                        })}
                        {r.signer.clone().map(|signer| view! {
                            <p class="signer" data-testid="record-signer">
                                {c.t(T::signed_by)} " " {signer.to_string()}
                                <span class="muted">" · " {c.t(T::signature_key)} " " {signer.key}</span>
                            </p>
                        })}
                        {r.issued_by.clone().map(|issued| view! {
                            <p class="signer" data-testid="record-issuer">
                                {c.t(T::issued_by_card)} " " {issued.issuer}
                                <span class="muted">" · " {c.t(T::signature_key)} " " {issued.kid}</span>
                            </p>
                        })}
                        <details><summary>
                            <span class="title">{r.description.title.clone()}</span>
                            <span class="kind">{r.granted.resource_type.clone()} " · "
                                {r.description.date.as_ref().map(|d| d.day().to_string()).unwrap_or_else(|| "—".into())}</span>
                        </summary>
                        {wallet_core::fhir::document::outline(&r.resource).map(|outline| view! { <DocumentOutline outline/> })}
                        <pre>{serde_json::to_string_pretty(r.resource.json()).unwrap_or_default()}</pre></details>
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}
