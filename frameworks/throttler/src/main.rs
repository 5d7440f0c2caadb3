//! Throttler: a distributed Cassandra load tester on Mesos.

fn main() {
    eprintln!("throttler: not built yet");
    std::process::exit(2);
}
