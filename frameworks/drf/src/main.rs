//! DRF demo: several frameworks compete and dominant shares are shown.

fn main() {
    eprintln!("drf: not built yet");
    std::process::exit(2);
}
