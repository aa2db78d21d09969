"""AI jobs as the server hosts them: submitting to the job queue, landing results in the
document as layers, the document's ``jobs`` board (the jobs themselves run in ``inference``)."""
