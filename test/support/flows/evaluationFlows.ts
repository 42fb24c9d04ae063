/** The flows of the evaluation tests: a classifier with variants, and an evaluation of it that logs a metric. */

/** A classifier with two variants of its one node; a text starting with "boom" fails its line, which an evaluation skips. */
export const MAIN_FLOW = {
  'flow.dag.yaml': `inputs:
  text:
    type: string
outputs:
  category:
    type: string
    reference: \${classify.output}
nodes:
- name: classify
  use_variants: true
node_variants:
  classify:
    default_variant_id: variant_0
    variants:
      variant_0:
        node:
          type: python
          source: {type: code, path: classify.py}
          inputs:
            text: \${inputs.text}
            style: lower
      variant_1:
        node:
          type: python
          source: {type: code, path: classify.py}
          inputs:
            text: \${inputs.text}
            style: upper
`,
  'classify.py': `from promptflow import tool


@tool
def classify(text: str, style: str) -> str:
    if text.startswith("boom"):
        raise ValueError("cannot classify")
    word = text.split()[0]
    return word.upper() if style == "upper" else word.lower()
`,
};

/** Grades each line against the base run's category; its aggregation node logs the accuracy. */
export const EVAL_FLOW = {
  'flow.dag.yaml': `inputs:
  answer:
    type: string
  prediction:
    type: string
  text:
    type: string
outputs:
  grade:
    type: string
    reference: \${grade.output}
nodes:
- name: grade
  type: python
  source: {type: code, path: grade.py}
  inputs:
    answer: \${inputs.answer}
    prediction: \${inputs.prediction}
    text: \${inputs.text}
- name: accuracy
  type: python
  source: {type: code, path: accuracy.py}
  inputs:
    grades: \${grade.output}
  aggregation: true
`,
  'grade.py': `from promptflow import tool


@tool
def grade(answer: str, prediction: str, text: str) -> str:
    return ("Correct" if answer == prediction else "Incorrect") + " " + text
`,
  'accuracy.py': `from promptflow import tool
from promptflow.core import log_metric


@tool
def accuracy(grades: list) -> float:
    value = round(sum(1 for g in grades if g.startswith("Correct")) / len(grades), 2)
    log_metric("accuracy", value)
    return value
`,
};
