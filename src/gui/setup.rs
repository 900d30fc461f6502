//! The side panel: a run's config (data files, model, objective and its parameters), the
//! buttons that start and stop training, and opening another run directory.

use eframe::egui;
use std::path::PathBuf;

use egui::Ui;

use super::file_browser::{FileBrowser, Pick};
use crate::config::{BackendChoice, Config, ObjectiveKind};

/// The user's request in this frame.
pub enum SetupAction {
    None,
    Start(Box<Config>),
    Stop,
    Open(PathBuf),
}

pub struct SetupPanel {
    pub config: Config,
    train: String,
    validation: String,
    test: String,
    run_dir: String,
    open_dir: String,
    /// Reason the last Start was rejected.
    pub error: Option<String>,
    /// The open file chooser and the field it fills.
    browser: Option<(PathField, FileBrowser)>,
}

/// The form's path fields.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PathField {
    Train,
    Validation,
    Test,
    RunDir,
    OpenDir,
}

impl SetupPanel {
    pub fn new(config: Config) -> SetupPanel {
        let path = |path: &Option<PathBuf>| {
            path.as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        };
        SetupPanel {
            train: path(&config.data.train),
            validation: path(&config.data.validation),
            test: path(&config.data.test),
            run_dir: config.output.run_dir.display().to_string(),
            open_dir: String::new(),
            config,
            error: None,
            browser: None,
        }
    }

    /// Draws the form; `running` swaps Start for Stop.
    pub fn ui(&mut self, ui: &mut Ui, running: bool, stopping: bool) -> SetupAction {
        let mut action = SetupAction::None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.add_enabled_ui(!running, |ui| self.form(ui));
            ui.separator();
            if running {
                let label = if stopping {
                    "Stopping..."
                } else {
                    "Stop (checkpoint first)"
                };
                if ui
                    .add_enabled(!stopping, egui::Button::new(label))
                    .clicked()
                {
                    action = SetupAction::Stop;
                }
            } else if ui.button("Start training").clicked() {
                action = match self.resolved() {
                    Ok(config) => {
                        self.error = None;
                        SetupAction::Start(Box::new(config))
                    }
                    Err(err) => {
                        self.error = Some(format!("{err:#}"));
                        SetupAction::None
                    }
                };
            }
            if let Some(error) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }

            ui.separator();
            ui.label("Open a run directory");
            path_row(
                ui,
                &mut self.open_dir,
                PathField::OpenDir,
                &mut self.browser,
            );
            if ui
                .add_enabled(!running, egui::Button::new("Open"))
                .clicked()
            {
                action = SetupAction::Open(PathBuf::from(self.open_dir.trim()));
            }
        });

        if let Some((field, browser)) = &mut self.browser {
            match browser.show(ui.ctx()) {
                Some(Some(path)) => {
                    let text = path.display().to_string();
                    match field {
                        PathField::Train => self.train = text,
                        PathField::Validation => self.validation = text,
                        PathField::Test => self.test = text,
                        PathField::RunDir => self.run_dir = text,
                        PathField::OpenDir => self.open_dir = text,
                    }
                    self.browser = None;
                }
                Some(None) => self.browser = None,
                None => {}
            }
        }
        action
    }

    fn form(&mut self, ui: &mut Ui) {
        let config = &mut self.config;
        ui.heading("Run");
        egui::Grid::new("setup").num_columns(2).show(ui, |ui| {
            ui.label("model.name");
            ui.text_edit_singleline(&mut config.model.name)
                .on_hover_text("Hub id, resolved in the Hugging Face cache, or a local folder");
            ui.end_row();
            ui.label("data.train");
            path_row(ui, &mut self.train, PathField::Train, &mut self.browser)
                .on_hover_text("CSV, TSV or JSONL with text and label columns");
            ui.end_row();
            ui.label("data.validation");
            path_row(
                ui,
                &mut self.validation,
                PathField::Validation,
                &mut self.browser,
            )
            .on_hover_text("Empty: hold out data.validation_fraction of the training file");
            ui.end_row();
            ui.label("data.test");
            path_row(ui, &mut self.test, PathField::Test, &mut self.browser);
            ui.end_row();
            ui.label("data.text_column");
            ui.text_edit_singleline(&mut config.data.text_column);
            ui.end_row();
            ui.label("data.label_column");
            ui.text_edit_singleline(&mut config.data.label_column);
            ui.end_row();

            ui.label("objective.kind");
            egui::ComboBox::from_id_salt("objective kind")
                .selected_text(format!("{:?}", config.objective.kind).to_lowercase())
                .show_ui(ui, |ui| {
                    for kind in [ObjectiveKind::Ce, ObjectiveKind::Scl, ObjectiveKind::Acf] {
                        let name = format!("{kind:?}").to_lowercase();
                        ui.selectable_value(&mut config.objective.kind, kind, name);
                    }
                });
            ui.end_row();
            ui.label("objective.temperature");
            ui.add(
                egui::DragValue::new(&mut config.objective.temperature)
                    .speed(0.005)
                    .range(0.01..=10.0),
            );
            ui.end_row();
            ui.label("objective.lambda");
            ui.add(
                egui::DragValue::new(&mut config.objective.lambda)
                    .speed(0.01)
                    .range(0.0..=1.0),
            );
            ui.end_row();
            ui.label("objective.correlation_weight");
            ui.add(
                egui::DragValue::new(&mut config.objective.correlation_weight)
                    .speed(0.005)
                    .range(0.0..=10.0),
            );
            ui.end_row();
            ui.label("objective.label_anchors");
            ui.checkbox(&mut config.objective.label_anchors, "");
            ui.end_row();

            ui.label("train.epochs");
            ui.add(egui::DragValue::new(&mut config.train.epochs).range(1..=1000));
            ui.end_row();
            ui.label("train.batch_size");
            ui.add(egui::DragValue::new(&mut config.train.batch_size).range(2..=4096));
            ui.end_row();
            ui.label("train.learning_rate");
            ui.add(
                egui::DragValue::new(&mut config.train.learning_rate)
                    .speed(1e-6)
                    .range(1e-7..=1.0),
            );
            ui.end_row();
            ui.label("train.snapshot_every");
            ui.add(egui::DragValue::new(&mut config.train.snapshot_every).range(0..=100_000));
            ui.end_row();
            ui.label("train.snapshot_size");
            ui.add(egui::DragValue::new(&mut config.train.snapshot_size).range(2..=100_000));
            ui.end_row();
            ui.label("device.backend");
            egui::ComboBox::from_id_salt("backend")
                .selected_text(format!("{:?}", config.device.backend).to_lowercase())
                .show_ui(ui, |ui| {
                    for backend in [BackendChoice::Auto, BackendChoice::Wgpu, BackendChoice::Cpu] {
                        let name = format!("{backend:?}").to_lowercase();
                        ui.selectable_value(&mut config.device.backend, backend, name);
                    }
                });
            ui.end_row();
            ui.label("output.run_dir");
            path_row(ui, &mut self.run_dir, PathField::RunDir, &mut self.browser)
                .on_hover_text("Must not hold a run already");
            ui.end_row();
        });
    }

    /// Returns the form as a config, with the same range checks as a config file.
    fn resolved(&self) -> anyhow::Result<Config> {
        let optional = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| PathBuf::from(text))
        };
        let mut config = self.config.clone();
        config.data.train = optional(&self.train);
        config.data.validation = optional(&self.validation);
        config.data.test = optional(&self.test);
        config.output.run_dir = PathBuf::from(self.run_dir.trim());
        if config.data.train.is_none() {
            anyhow::bail!("data.train is empty; enter the training file");
        }
        if config.data.validation.is_none() && config.data.validation_fraction.is_none() {
            config.data.validation_fraction = Some(0.1);
        }
        config.validate("the form")?;
        if crate::run::RunDir::new(&config.output.run_dir).has_run() {
            anyhow::bail!(
                "{} already contains a run; choose another output.run_dir, or open it below",
                config.output.run_dir.display()
            );
        }
        Ok(config)
    }
}

/// Draws a path text field with a button that opens the file chooser for it, and returns
/// the text field's response.
fn path_row(
    ui: &mut Ui,
    text: &mut String,
    field: PathField,
    browser: &mut Option<(PathField, FileBrowser)>,
) -> egui::Response {
    let pick = match field {
        PathField::RunDir | PathField::OpenDir => Pick::Folder,
        _ => Pick::DataFile,
    };
    ui.horizontal(|ui| {
        let response = ui.add(egui::TextEdit::singleline(text).desired_width(150.0));
        if ui.small_button("...").on_hover_text("Browse").clicked() {
            *browser = Some((field, FileBrowser::new(pick, text)));
        }
        response
    })
    .inner
}
