use std::process::ExitCode;

use soleus_api::config::Settings;
use soleus_api::startup::Application;
use soleus_api::telemetry;

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    telemetry::init(settings.log_format);
    let app = match Application::build(&settings) {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    tracing::info!(host = %settings.host, port = app.port(), "listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.into()),
    }
}

/// One line on stderr naming what is wrong, and a non-zero exit.
fn fail(e: &anyhow::Error) -> ExitCode {
    #[allow(clippy::print_stderr)]
    {
        let message = format!("{e:#}");
        eprintln!(
            "soleus-api: {}",
            message.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    ExitCode::FAILURE
}
