//! The `softphone` binary (placeholder: see the crate docs).
fn main() -> std::process::ExitCode {
    eprintln!("{}", rvoip_gateway::NOT_YET);
    std::process::ExitCode::from(2)
}
