//! The rules engine (placeholder while the engine is written).
pub struct Engine;
pub struct Evaluation;
pub struct StudentContext;
