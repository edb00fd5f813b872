"""Notebook 03, the GAN minimax game (Goodfellow et al., 2014), its theory and its failure modes.

``minimax`` holds the value function, D* and the losses; ``players`` the MLP players and the training step;
``dirac`` the Dirac-GAN's oscillation; ``mode_metrics`` mixtures and PacGAN's metrics; ``stacked_gans`` many
seeds trained together; ``dcgan`` DCGAN and the digit judge; ``rebalancing`` a conditional DCGAN against
oversampling and class weights.
"""
