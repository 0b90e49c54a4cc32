//! Integration tests of the dossier pages.

#![allow(unused_imports)]

use crate::common::{spawn_app, TestApp};
