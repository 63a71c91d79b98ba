//! The authenticator app (the TOTP factor): its state, setting one up
//! (a QR code of the `otpauth://` URI drawn as SVG on the server, and the
//! key as text for typing in), confirming it with a code, and removing
//! it. Every change needs the password given in the last few minutes.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use qrcode::QrCode;
use qrcode::render::svg;
use touchtone_service::Service;
use touchtone_service::portal::PortalError;

use crate::page::{self, Chrome, Ctx};

#[derive(Template)]
#[template(path = "authenticator.html")]
struct AuthenticatorPage {
    chrome: Chrome,
    csrf: String,
    since: Option<String>,
    reauth: bool,
    /// The QR code (our own SVG) of a secret being set up.
    qr: Option<String>,
    key: String,
    error: Option<String>,
    notice: Option<String>,
}

/// `uri` as an inline SVG QR code, labelled for screen readers.
fn qr_svg(uri: &str, label: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    // The crate writes a standalone document; inline, the XML declaration
    // goes and the picture gets its role and name.
    let start = image.find("<svg ")?;
    let label = askama::filters::escape(label, askama::filters::Html)
        .map(|l| l.to_string())
        .unwrap_or_default();
    Some(format!(
        "<svg role=\"img\" aria-label=\"{label}\" {}",
        &image[start + "<svg ".len()..]
    ))
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    reauth: Option<String>,
    added: Option<String>,
    removed: Option<String>,
}

pub async fn show(
    State(service): State<Service>,
    ctx: Ctx,
    Query(q): Query<ShowQuery>,
) -> Response {
    let error = match q.reauth.as_deref() {
        Some("refused") => Some(ctx.tr.t("reauth-refused")),
        Some("throttled") => Some(ctx.tr.t("sign-in-throttled")),
        _ => None,
    };
    let notice = match (q.added, q.removed) {
        (Some(_), _) => Some(ctx.tr.t("authenticator-added-notice")),
        (_, Some(_)) => Some(ctx.tr.t("authenticator-removed-notice")),
        _ => None,
    };
    authenticator_page(&service, &ctx, StatusCode::OK, error, notice).await
}

async fn authenticator_page(
    service: &Service,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (token, session) = match super::session(service, ctx).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let view = match service.portal_authenticator(&token).await {
        Ok(v) => v,
        Err(e) => return super::failure(ctx, e),
    };
    let label = ctx.tr.t("authenticator-qr-label");
    let (qr, key) = match &view.pending {
        Some(p) => (qr_svg(&p.uri, &label), p.key.clone()),
        None => (None, String::new()),
    };
    let page = AuthenticatorPage {
        chrome: Chrome::new(ctx, "authenticator-title")
            .signed_in(&session.display_name, &session.csrf),
        csrf: session.csrf.clone(),
        since: view.confirmed_at.map(page::when),
        reauth: !session.recently_authenticated,
        qr,
        key,
        error,
        notice,
    };
    page::render(status, &page)
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// Shows a new secret to scan.
pub async fn begin(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<super::phones::TokenOnly>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service
        .portal_authenticator_begin(&ctx.caller, &token)
        .await
    {
        Ok(_) | Err(PortalError::ReauthRequired) => page::see_other("/authenticator"),
        Err(e) => super::failure(&ctx, e),
    }
}

/// Confirms the app with its current code.
pub async fn confirm(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service
        .portal_authenticator_confirm(&ctx.caller, &token, &form.code)
        .await
    {
        Ok(true) => page::see_other("/authenticator?added=1"),
        Ok(false) => {
            let error = Some(ctx.tr.t("authenticator-wrong-code"));
            authenticator_page(
                &service,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                error,
                None,
            )
            .await
        }
        Err(PortalError::ReauthRequired) => page::see_other("/authenticator"),
        Err(e) => super::failure(&ctx, e),
    }
}

/// Removes the app.
pub async fn remove(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<super::phones::TokenOnly>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service
        .portal_authenticator_remove(&ctx.caller, &token)
        .await
    {
        Ok(_) => page::see_other("/authenticator?removed=1"),
        Err(PortalError::ReauthRequired) => page::see_other("/authenticator"),
        Err(e) => super::failure(&ctx, e),
    }
}
