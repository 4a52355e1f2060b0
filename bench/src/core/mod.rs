//! The core-engine workload group: compile throughput and compiled kernels.

mod compile;
mod kernels;

use crate::report::Table;
use std::path::Path;

/// Runs the group; `scratch` is a directory for objects and libraries.
pub fn run(scratch: &Path) -> Result<Vec<Table>, String> {
    let mut tables = compile::tables(scratch)?;
    tables.push(kernels::table()?);
    Ok(tables)
}
