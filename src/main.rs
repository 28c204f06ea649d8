use std::process::ExitCode;

use soleus_api::config::Settings;
use soleus_api::startup::Application;
use soleus_api::{cli, telemetry};

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => return cli::fail(&e),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => {}
        Some("healthcheck") => return cli::healthcheck(&settings),
        Some("partners") => return cli::partners(&settings, args.get(1..).unwrap_or_default()),
        Some(other) => {
            return cli::fail(&anyhow::anyhow!(
                "unknown command `{other}`; try `serve`, `healthcheck` or `partners`"
            ));
        }
    }
    telemetry::init(settings.log_format);
    let app = match Application::build(&settings) {
        Ok(app) => app,
        Err(e) => return cli::fail(&e),
    };
    tracing::info!(host = %settings.host, port = app.port(), "listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(&e.into()),
    }
}
