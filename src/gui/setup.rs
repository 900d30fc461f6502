//! The side panel: a run's config (data files, model, objective and its parameters), the
//! buttons that start and stop training, and opening another run directory.

use eframe::egui;
use std::path::PathBuf;

use egui::Ui;

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
            ui.text_edit_singleline(&mut self.open_dir);
            if ui
                .add_enabled(!running, egui::Button::new("Open"))
                .clicked()
            {
                action = SetupAction::Open(PathBuf::from(self.open_dir.trim()));
            }
        });
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
            ui.text_edit_singleline(&mut self.train)
                .on_hover_text("CSV, TSV or JSONL with text and label columns");
            ui.end_row();
            ui.label("data.validation");
            ui.text_edit_singleline(&mut self.validation)
                .on_hover_text("Empty: hold out data.validation_fraction of the training file");
            ui.end_row();
            ui.label("data.test");
            ui.text_edit_singleline(&mut self.test);
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
            ui.text_edit_singleline(&mut self.run_dir)
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
