//! Monte Carlo estimate of pi as a Mesos framework.
#![warn(missing_docs)]
