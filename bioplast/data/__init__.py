"""Data: datasets, IDX files, teacher–student tasks and spike encoders."""

from bioplast.data import encoders
from bioplast.data.dataset import Dataset, one_hot, stratified_split
from bioplast.data.datasets import TASKS, load_digits, load_mnist1d, load_mnist5k, load_task
from bioplast.data.idx import load_idx_dataset, read_idx, write_idx
from bioplast.data.teacher import TeacherTask, teacher_student

__all__ = [
    "Dataset",
    "one_hot",
    "stratified_split",
    "TASKS",
    "load_digits",
    "load_mnist1d",
    "load_mnist5k",
    "load_task",
    "load_idx_dataset",
    "read_idx",
    "write_idx",
    "TeacherTask",
    "teacher_student",
    "encoders",
]
