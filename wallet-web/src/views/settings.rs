//! Settings: language, family members, passphrase, backups, lock.

use crate::api;
use crate::i18n::T;
use crate::model::{ChangePassphrase, Changed, Export, NewProfile, ProfileInfo, WalletSettings};
use crate::views::{Banner, ctx};
use leptos::prelude::*;

/// The settings page.
#[component]
pub fn Settings() -> impl IntoView {
    let c = ctx();
    let message = RwSignal::new(None::<(bool, String)>);
    let (current, new) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let backup_pass = RwSignal::new(String::new());
    let (fam_name, fam_birth, fam_rel) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("child".to_string()),
    );
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let body = ChangePassphrase {
                current: current.get_untracked(),
                new: new.get_untracked(),
            };
            let r = api::post::<_, Changed>("/api/passphrase", &body).await;
            message.set(Some(match r {
                Ok(_) => (true, "Passphrase changed.".into()),
                Err(e) => (false, e.message),
            }));
        });
    };
    let backup = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let body = Export {
                passphrase: backup_pass.get_untracked(),
                profile: c.profile.get_untracked(),
            };
            let r = api::post_for_bytes("/api/export", &body).await;
            match r {
                Ok(bytes) => {
                    api::download(&bytes, "amanat-backup.age", "application/octet-stream");
                    message.set(Some((true, "Backup downloaded.".into())));
                }
                Err(e) => message.set(Some((false, e.message))),
            }
        });
    };
    // Where offline share codes open on a doctor's phone.
    let viewer = RwSignal::new(String::new());
    leptos::task::spawn_local(async move {
        if let Ok(s) = api::get::<WalletSettings>("/api/settings").await {
            viewer.set(s.viewer.unwrap_or_default());
        }
    });
    let save_viewer = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let body = WalletSettings {
                viewer: Some(viewer.get_untracked()),
            };
            let r = api::post::<_, WalletSettings>("/api/settings", &body).await;
            message.set(Some(match r {
                Ok(s) => {
                    viewer.set(s.viewer.unwrap_or_default());
                    (true, c.t(T::saved).into())
                }
                Err(e) => (false, e.message),
            }));
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let body = NewProfile {
                name: fam_name.get_untracked(),
                birth_date: Some(fam_birth.get_untracked()),
                relationship: Some(fam_rel.get_untracked()),
                ..NewProfile::default()
            };
            match api::post::<_, ProfileInfo>("/api/profiles", &body).await {
                Ok(added) => {
                    message.set(Some((true, format!("Added {}.", added.name))));
                    c.refresh_status();
                }
                Err(e) => message.set(Some((false, e.message))),
            }
        });
    };
    view! {
        <section class="settings">
            <h1>{move || c.t(T::settings)}</h1>
            {move || message.get().map(|(ok, m)| view! { <Banner message=m ok=ok/> })}
            <p class="muted">{move || c.t(T::wallet_id)} ": " <span class="mono" data-testid="wallet-id">{move || c.status.get().and_then(Result::ok).and_then(|s| s.wallet_id).unwrap_or_default()}</span></p>
            <form class="card" on:submit=add>
                <h2>{move || c.t(T::add_family)}</h2>
                <label>{move || c.t(T::name)}<input required data-testid="family-name" on:input=move |ev| fam_name.set(event_target_value(&ev))/></label>
                <label>{move || c.t(T::birth_date)}<input type="date" data-testid="family-birth" on:input=move |ev| fam_birth.set(event_target_value(&ev))/></label>
                <label>{move || c.t(T::relationship)}
                    <select on:change=move |ev| fam_rel.set(event_target_value(&ev))>
                        <option value="child">"child"</option><option value="parent">"parent"</option>
                        <option value="spouse">"spouse"</option><option value="other">"other"</option>
                    </select>
                </label>
                <button type="submit" data-testid="family-add">{move || c.t(T::add)}</button>
            </form>
            <form class="card" on:submit=save_viewer>
                <h2>{move || c.t(T::viewer_setting)}</h2>
                <p class="muted">{move || c.t(T::viewer_hint)}</p>
                <label>{move || c.t(T::viewer_address)}<input type="url" data-testid="viewer-url" prop:value=viewer on:input=move |ev| viewer.set(event_target_value(&ev))/></label>
                <button type="submit" data-testid="viewer-save">{move || c.t(T::save_setting)}</button>
            </form>
            <form class="card" on:submit=change>
                <h2>{move || c.t(T::change_passphrase)}</h2>
                <label>{move || c.t(T::current)}<input type="password" autocomplete="current-password" required data-testid="passphrase-current" on:input=move |ev| current.set(event_target_value(&ev))/></label>
                <label>{move || c.t(T::new)}<input type="password" autocomplete="new-password" minlength="8" required data-testid="passphrase-new" on:input=move |ev| new.set(event_target_value(&ev))/></label>
                <button type="submit" data-testid="passphrase-change">{move || c.t(T::change_passphrase)}</button>
            </form>
            <form class="card" on:submit=backup>
                <h2>{move || c.t(T::backup)}</h2>
                <p class="muted">{move || c.t(T::backup_hint)}</p>
                <label>{move || c.t(T::passphrase)}<input type="password" autocomplete="new-password" minlength="8" required data-testid="backup-passphrase" on:input=move |ev| backup_pass.set(event_target_value(&ev))/></label>
                <button type="submit" data-testid="backup-download">{move || c.t(T::backup)}</button>
            </form>
        </section>
    }
}
