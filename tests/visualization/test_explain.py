"""What the hooks capture is what the model computes, and capturing changes
nothing."""
import pytest
import torch

from escnet_mmseg.models.sam_block import cluster_boxes
from escnet_mmseg.ops import pseudo_prompts
from escnet_mmseg.visualization import PromptCapture, class_indices, explain
from tests.tiny import NAMES
from tests.tolerance import BLOCK, OP, assert_close


def _predict(model, data):
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
        return model.predict(data['inputs'], data['data_samples'])[0]


def test_hooks_change_no_output_and_are_removed(inferencer, image):
    model = inferencer.model
    data = inferencer.collate_fn([inferencer.pipeline(image)])
    plain = _predict(model, data)
    with PromptCapture(model.neck) as capture:
        hooked = _predict(model, data)
    assert torch.equal(plain.seg_logits.data, hooked.seg_logits.data)
    assert len(capture.passes) == 1
    assert len(capture.passes[0]['blocks']) == len(model.neck.blocks)
    modules = [model.neck, *model.neck.blocks, *model.neck.blocks.modules()]
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in modules)


def test_captured_regions_and_points_are_the_ops_outputs(
        explanation, inferencer):
    neck = inferencer.model.neck
    assert explanation.classes == NAMES
    assert (explanation.blocks[0].labels >= 0).any()  # something to check
    for k, (block, module) in enumerate(zip(explanation.blocks, neck.blocks)):
        t, h, w = block.prob.shape
        labels, points, valid = pseudo_prompts(block.prob, module.ppg.alpha,
                                               module.ppg.num_points,
                                               module.ppg.iters)
        assert torch.equal(block.labels, labels.view(t, h, w)), k
        assert torch.equal(block.points, points), k
        assert torch.equal(block.point_labels > 0, valid), k
        assert torch.equal(block.foreground, block.labels >= 0), k
        assert block.boxes is None  # the tiny config prompts no boxes
    # Block 0 scores tau * C0; probabilities are a softmax over the classes.
    assert_close(explanation.blocks[0].score,
                 explanation.logit_scale * explanation.corr, OP)
    assert_close(
        explanation.blocks[0].prob,
        explanation.blocks[0].score.softmax(dim=0),
        OP,
        scale=1.)


def test_final_maps_are_the_models_segmentation(explanation, inferencer,
                                                image):
    sample = inferencer(image, return_datasamples=True)
    assert torch.equal(explanation.label_map, sample.pred_sem_seg.data[0])
    assert explanation.final_prob.shape == (len(NAMES), *image.shape[:2])
    assert_close(
        explanation.final_prob,
        inferencer.model.probabilities(sample.seg_logits.data[None])[0],
        OP,
        scale=1.)
    # The grid covers the image: cell centres map inside it.
    corner = explanation.grid_to_image(torch.tensor([[0., 0.], [7., 7.]]))
    assert torch.allclose(corner, torch.tensor([[5., 3.], [75., 45.]]))


def test_unknown_class_is_refused_by_name(inferencer, image, explanation):
    with pytest.raises(ValueError, match='class "dog" is not in the vocab'):
        explain(inferencer, image, show=['sky', 'dog'])
    with pytest.raises(ValueError, match='class "dog" is not in the vocab'):
        explanation.index('dog')
    assert class_indices(['sky', 'wall, walls'], ['Wall,walls']) == [1]


def test_boxes_chunks_and_slide_mode(inferencer, image, explanation):
    """A config's test mode and chunking (and no seg_logits, as the
    evaluation configs): still one whole-image pass, the same PPG outputs,
    the boxes of the box-prompt ablation."""
    model = inferencer.model
    saved = model.test_cfg
    model.test_cfg = dict(
        mode='slide',
        crop_size=(32, 32),
        stride=(24, 24),
        class_chunk_size=4,
        return_logits=False)
    try:
        chunked = explain(inferencer, image, show=['star', 'sky'])
        assert model.test_cfg['mode'] == 'slide'
        for block in model.neck.blocks:
            block.prompt_types = ('points', 'boxes')
        boxed = explain(inferencer, image)
    finally:
        model.test_cfg = saved
        for block in model.neck.blocks:
            block.prompt_types = ('points', 'masks')
    assert chunked.shown == ('star', 'sky')
    assert chunked.final_prob.shape[0] == 2
    assert torch.equal(chunked.blocks[0].labels, explanation.blocks[0].labels)
    assert_close(chunked.blocks[1].score, explanation.blocks[1].score, BLOCK)
    for block in boxed.blocks:
        assert torch.equal(
            block.boxes,
            cluster_boxes(
                block.labels.flatten(1), block.points, block.labels.shape[-1]))
