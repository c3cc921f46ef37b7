//! Runs a simulator in the foreground: `cargo run -p millwright-sim --example serve -- maintainx
//! 127.0.0.1:8080 42 50` (system, listen address, seed, scale; all optional).

use millwright_sim::{serve, SimOptions, System};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let system: System = args.next().as_deref().unwrap_or("maintainx").parse()?;
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let defaults = SimOptions::default();
    let opts = SimOptions {
        seed: args
            .next()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(defaults.seed),
        scale: args
            .next()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(defaults.scale),
    };
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "{system} simulator on http://{} ({opts:?})",
        listener.local_addr()?
    );
    serve(system, listener, opts).await?;
    Ok(())
}
