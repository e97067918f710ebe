//! The `granary` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    granary_gateway::cli::run(granary_gateway::cli::Cli::parse()).await
}
