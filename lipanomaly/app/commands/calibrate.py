"""``lipanomaly calibrate``: a model's scoring re-fitted on the user's genuine clips, saved."""

from ..common import calibrated, check_model_destination, load_model, model_folder

__all__ = ["run"]


def run(args, console):
    """Calibrate the model on the references and save it with its source's notes."""
    from ...persistence.pretrained import calibration_notes, save_pipeline

    out = check_model_destination(args.output, args.force)
    pipeline = load_model(args, default="lfhf")  # the model calibration applies to
    model, record = calibrated(pipeline, args.references, console, args.recursive, args.skip_errors)
    # the source's notes travel with the model (read before an in-place save replaces them)
    notes = calibration_notes(model_folder(args, default="lfhf"), record)
    save_pipeline(model, out, overwrite=args.force, notes=notes)
    console.info(f"calibrated model saved to {out}")
    return 0
