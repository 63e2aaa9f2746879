"""IIIF: manifests read (`presentation`), their metadata mapped to a work (`metadata`)."""
